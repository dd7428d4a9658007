"""A job that kills its worker process every time (the OOM killer, a decoder or driver crash) is
redelivered a bounded number of times, then fails with a typed error; the worker lives on."""

from __future__ import annotations

import os
import signal
import time
import uuid

from tests.services.celery_workers import TENANT, clip_path, job_calls, own_cluster, video_key  # noqa: F401


def test_a_job_that_kills_its_process_every_time_fails_after_bounded_redeliveries(tmp_path, clip_path):  # noqa: F811
    from workers.celery_tasks import MAX_WORKER_LOSSES

    with own_cluster(str(tmp_path / "bucket")) as c:
        worker = c.start_worker("t4", "t4-lost@test", CAPTIONACC_WARM_MODELS="")
        video = str(uuid.uuid4())
        c.storage.put_file(video_key(TENANT, video), clip_path)
        r = c.send(*job_calls(video)[0])
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
        pong = c.app.control.ping(destination=[worker.name], timeout=10)
        assert pong and worker.name in pong[0]
