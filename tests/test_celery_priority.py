"""Caption OCR jumps the queue: short, user-facing jobs are not stuck behind long extracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from tests.services.celery_workers import (  # noqa: F401 - fixtures
    TENANT, clip_path, job_calls, release_results, start_workers, video_key, worker_env,
)
from tests.services.redis_server import start_redis


def test_caption_ocr_is_served_before_queued_extracts(tmp_path, clip_path):  # noqa: F811
    from tasks.storage import LocalStorage
    from workers.celery_app import JOBS, make_app

    server = start_redis()
    url = server.url(0)
    root = str(tmp_path / "bucket")
    storage = LocalStorage(root)
    old = {k: os.environ.get(k) for k in ("CAPTIONACC_REDIS_URL", "CELERY_RESULT_BACKEND")}
    os.environ["CAPTIONACC_REDIS_URL"] = os.environ["CELERY_RESULT_BACKEND"] = url
    app = make_app()
    worker = None
    try:
        sent = []
        for _ in range(2):  # two long jobs queued first...
            v = str(uuid.uuid4())
            storage.put_file(video_key(TENANT, v), clip_path)
            job, kw = job_calls(v)[0]
            spec = JOBS[job]
            sent.append(app.send_task(spec.task_name, kwargs=kw, queue=spec.queue, priority=spec.priority))
        # ...then a caption OCR (its chunks are missing: it fails fast), sent the documented ad-hoc
        # way: `celery call` has no --priority, so the priority must come from the task's route.
        kwargs = dict(chunks_prefix=f"{TENANT}/client/videos/{uuid.uuid4()}/cropped_frames_v1/", start_frame=0,
                      end_frame=5)
        called = subprocess.run([sys.executable, "-m", "celery", "-A", "workers.celery_app", "call",
                                 "captionacc.generate_caption_ocr", "--kwargs", json.dumps(kwargs)],
                                env=dict(os.environ, CAPTIONACC_REDIS_URL=url, CELERY_RESULT_BACKEND=url),
                                capture_output=True, text=True, timeout=60, check=True)
        ocr = app.AsyncResult(called.stdout.strip().splitlines()[-1])
        # The worker starts only now, with all three waiting: it must take the caption OCR first.
        env = worker_env(url, dict(CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=root))
        [worker] = start_workers([("t4", env, {"name": "t4-prio@test"})])
        for r in sent:
            assert r.get(timeout=120)["frame_count"] > 0
        ocr.get(timeout=30, propagate=False)
        assert ocr.state == "FAILURE"  # MissingObject, not retried
        assert ocr.date_done < min(r.date_done for r in sent), (ocr.date_done, [r.date_done for r in sent])
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


def test_an_a10g_node_serves_its_own_crops_before_t4_work(tmp_path, clip_path):  # noqa: F811
    """An A10G node consumes gpu-a10g and gpu-t4. With caption OCR and extracts waiting on
    gpu-t4 and a crop job on gpu-a10g, it takes the crop first (only it can run it), then the
    caption OCR, then the extract."""
    from tasks.storage import LocalStorage
    from workers.celery_app import JOBS, make_app

    server = start_redis()
    url = server.url(0)
    root = str(tmp_path / "bucket")
    storage = LocalStorage(root)
    old = {k: os.environ.get(k) for k in ("CAPTIONACC_REDIS_URL", "CELERY_RESULT_BACKEND")}
    os.environ["CAPTIONACC_REDIS_URL"] = os.environ["CELERY_RESULT_BACKEND"] = url
    app = make_app()
    worker = None
    try:
        def send(job, kw):
            spec = JOBS[job]
            return app.send_task(spec.task_name, kwargs=kw, queue=spec.queue, priority=spec.priority)

        v = str(uuid.uuid4())
        storage.put_file(video_key(TENANT, v), clip_path)
        (ex_job, ex_kw), (crop_job, crop_kw) = job_calls(v)
        # Queued in the worst order for the crop: extract, caption OCR, then the crop last. They
        # fail fast where their inputs are missing; only the order they are taken in matters.
        extract = send(ex_job, ex_kw)
        ocr = send("generate_caption_ocr", dict(chunks_prefix=f"{TENANT}/client/videos/{uuid.uuid4()}/cropped_frames_v1/",
                                                start_frame=0, end_frame=5))
        crop = send(crop_job, dict(crop_kw, video_id=str(uuid.uuid4()),
                                   video_key=video_key(TENANT, str(uuid.uuid4()))))
        env = worker_env(url, dict(CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=root), CAPTIONACC_WARM_MODELS="")
        [worker] = start_workers([("a10g", env, {"name": "a10g-prio@test"})])
        for r in (crop, ocr, extract):
            r.get(timeout=180, propagate=False)
        assert crop.date_done < ocr.date_done < extract.date_done, (crop.date_done, ocr.date_done, extract.date_done)
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
