"""Redis restarted mid-run: workers reconnect, queued jobs survive, the in-flight one completes.

A real redis-server with an append-only file (as a production broker must have: without
persistence a restart loses the queue by design) is SIGKILLed while a real Celery worker runs
one job and two more wait in the queue, then restarted on the same port and data directory.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

from tests.services.celery_workers import (  # noqa: F401 - fixtures
    TENANT, clip_path, job_calls, release_results, start_workers, video_key, worker_env,
)
from tests.services.redis_server import free_port, start_redis


def test_redis_restart_mid_run_loses_no_job(tmp_path, clip_path):  # noqa: F811
    from tasks.storage import LocalStorage
    from workers.celery_app import make_app

    port, data = free_port(), str(tmp_path / "redis")
    os.makedirs(data)
    url = f"redis://127.0.0.1:{port}/0"
    redis_proc = start_redis(port, data, persistent=True).proc
    root = str(tmp_path / "bucket")
    storage = LocalStorage(root)
    env = worker_env(url, dict(CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=root),
                     CAPTIONACC_BROKER_VISIBILITY_TIMEOUT="20", CAPTIONACC_BROKER_RESTORE_INTERVAL="1")
    [worker] = start_workers([("t4", env, {"name": "t4-restart@test"})])
    old = {k: os.environ.get(k) for k in ("CAPTIONACC_REDIS_URL", "CELERY_RESULT_BACKEND")}
    os.environ["CAPTIONACC_REDIS_URL"] = os.environ["CELERY_RESULT_BACKEND"] = url
    app = make_app()
    try:
        videos = [str(uuid.uuid4()) for _ in range(3)]
        results = []
        for v in videos:
            storage.put_file(video_key(TENANT, v), clip_path)
            job, kw = job_calls(v)[0]  # extract: seconds of OCR, deterministic output keys
            results.append(app.send_task(f"captionacc.{job}", kwargs=kw, queue="gpu-t4"))
        deadline = time.monotonic() + 60
        while results[0].state != "STARTED":
            assert time.monotonic() < deadline, "first job never started"
            time.sleep(0.02)

        redis_proc.send_signal(signal.SIGKILL)  # the broker dies with one job running, two queued
        redis_proc.wait(10)
        time.sleep(1.0)
        redis_proc = start_redis(port, data, persistent=True).proc  # same port, same append-only file

        for v, r in zip(videos, results):
            out = r.get(timeout=180)
            assert out["frame_count"] > 0 and out["ocr_box_count"] > 0
            keys = storage.list(f"{TENANT}/client/videos/{v}") + storage.list(f"{TENANT}/server/videos/{v}")
            assert any(k.endswith("/layout.db.gz") for k in keys) and any(k.endswith("/raw-ocr.db.gz") for k in keys)
            frames = [k for k in keys if "/full_frames/" in k]
            assert len(frames) == out["frame_count"]
        log = worker.log()
        assert "Connection to broker lost" in log or "Cannot connect to redis" in log, log[-2000:]  # it really lost Redis
    finally:
        release_results(app)
        worker.stop()
        redis_proc.kill()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
