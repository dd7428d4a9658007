"""Caption OCR jumps the queue: short, user-facing jobs are not stuck behind long extracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

from tests.services.celery_workers import TENANT, clip_path, job_calls, own_cluster, video_key  # noqa: F401


def test_caption_ocr_is_served_before_queued_extracts(tmp_path, clip_path):  # noqa: F811
    with own_cluster(str(tmp_path / "bucket")) as c:
        sent = []
        for _ in range(2):  # two long jobs queued first...
            v = str(uuid.uuid4())
            c.storage.put_file(video_key(TENANT, v), clip_path)
            sent.append(c.send(*job_calls(v)[0]))
        # ...then a caption OCR (its chunks are missing: it fails fast), sent the documented ad-hoc
        # way: `celery call` has no --priority, so the priority must come from the task's route.
        kwargs = dict(chunks_prefix=f"{TENANT}/client/videos/{uuid.uuid4()}/cropped_frames_v1/", start_frame=0,
                      end_frame=5)
        called = subprocess.run([sys.executable, "-m", "celery", "-A", "workers.celery_app", "call",
                                 "captionacc.generate_caption_ocr", "--kwargs", json.dumps(kwargs)],
                                env=dict(os.environ, CAPTIONACC_REDIS_URL=c.url, CELERY_RESULT_BACKEND=c.url),
                                capture_output=True, text=True, timeout=60, check=True)
        ocr = c.app.AsyncResult(called.stdout.strip().splitlines()[-1])
        # The worker starts only now, with all three waiting: it must take the caption OCR first.
        c.start_worker("t4", "t4-prio@test")
        for r in sent:
            assert r.get(timeout=120)["frame_count"] > 0
        ocr.get(timeout=30, propagate=False)
        assert ocr.state == "FAILURE"  # MissingObject, not retried
        assert ocr.date_done < min(r.date_done for r in sent), (ocr.date_done, [r.date_done for r in sent])


def test_an_a10g_node_serves_its_own_crops_before_t4_work(tmp_path, clip_path):  # noqa: F811
    """An A10G node consumes gpu-a10g and gpu-t4. With caption OCR and extracts waiting on
    gpu-t4 and a crop job on gpu-a10g, it takes the crop first (only it can run it), then the
    caption OCR, then the extract."""
    with own_cluster(str(tmp_path / "bucket")) as c:
        v = str(uuid.uuid4())
        c.storage.put_file(video_key(TENANT, v), clip_path)
        (ex_job, ex_kw), (crop_job, crop_kw) = job_calls(v)
        # Queued in the worst order for the crop: extract, caption OCR, then the crop last. They
        # fail fast where their inputs are missing; only the order they are taken in matters.
        extract = c.send(ex_job, ex_kw)
        ocr = c.send("generate_caption_ocr", dict(
            chunks_prefix=f"{TENANT}/client/videos/{uuid.uuid4()}/cropped_frames_v1/", start_frame=0, end_frame=5))
        crop = c.send(crop_job, dict(crop_kw, video_id=str(uuid.uuid4()), video_key=video_key(TENANT, str(uuid.uuid4()))))
        c.start_worker("a10g", "a10g-prio@test", CAPTIONACC_WARM_MODELS="")
        for r in (crop, ocr, extract):
            r.get(timeout=180, propagate=False)
        assert crop.date_done < ocr.date_done < extract.date_done, (crop.date_done, ocr.date_done, extract.date_done)
