"""A job that kills its worker process every time (the OOM killer, a decoder or driver crash) is
redelivered a bounded number of times, then fails with a typed error; the worker lives on."""

from __future__ import annotations

import os
import signal
import time
import uuid

from tests.services.celery_workers import (  # noqa: F401 - fixtures
    TENANT, clip_path, job_calls, release_results, start_workers, video_key, worker_env,
)
from tests.services.redis_server import start_redis


def test_a_job_that_kills_its_process_every_time_fails_after_bounded_redeliveries(tmp_path, clip_path):  # noqa: F811
    from tasks.storage import LocalStorage
    from workers.celery_app import JOBS, make_app
    from workers.celery_tasks import MAX_WORKER_LOSSES

    server = start_redis()
    url = server.url(0)
    root = str(tmp_path / "bucket")
    storage = LocalStorage(root)
    old = {k: os.environ.get(k) for k in ("CAPTIONACC_REDIS_URL", "CELERY_RESULT_BACKEND")}
    os.environ["CAPTIONACC_REDIS_URL"] = os.environ["CELERY_RESULT_BACKEND"] = url
    app = make_app()
    worker = None
    try:
        env = worker_env(url, dict(CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=root), CAPTIONACC_WARM_MODELS="")
        [worker] = start_workers([("t4", env, {"name": "t4-lost@test"})])
        video = str(uuid.uuid4())
        storage.put_file(video_key(TENANT, video), clip_path)
        job, kw = job_calls(video)[0]
        spec = JOBS[job]
        r = app.send_task(spec.task_name, kwargs=kw, queue=spec.queue, priority=spec.priority)
        killed: list[int] = []
        deadline = time.monotonic() + 240
        while r.state not in ("SUCCESS", "FAILURE"):
            assert time.monotonic() < deadline, f"still {r.state} after killing {len(killed)} processes"
            info = r.info if r.state == "STARTED" else None
            pid = info.get("pid") if isinstance(info, dict) else None
            if pid and pid not in killed:
                time.sleep(0.5)  # mid-job (a run takes seconds; a refused delivery ends at once)
                info = r.info if r.state == "STARTED" else None
                if isinstance(info, dict) and info.get("pid") == pid:
                    killed.append(pid)
                    os.kill(pid, signal.SIGKILL)  # the pool child running the job dies
            time.sleep(0.02)
        assert r.state == "FAILURE"
        assert type(r.result).__name__ == "WorkerLostRepeatedly", repr(r.result)
        assert "not starting it again" in str(r.result)
        assert len(killed) == 1 + MAX_WORKER_LOSSES  # every delivery it was allowed, then refused
        assert worker.proc.poll() is None  # the node itself carries on
        pong = app.control.ping(destination=[worker.name], timeout=10)
        assert pong and worker.name in pong[0]
    finally:
        release_results(app)
        if worker is not None:
            worker.stop()
        server.proc.kill()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
