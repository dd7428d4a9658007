"""A job whose soft time limit fired never returns a result, even when a library swallowed the
interruption (botocore retries whatever an HTTP send raised)."""

import os
import signal

import pytest
from celery.exceptions import SoftTimeLimitExceeded


def test_an_interruption_swallowed_inside_the_job_still_fails_it(monkeypatch):
    import workers.celery_tasks as ct

    def billiard_like(signum, frame):  # what billiard installs in a pool child
        raise SoftTimeLimitExceeded()

    def job_that_swallows(job, kwargs):
        try:
            os.kill(os.getpid(), signal.SIGUSR1)  # the soft limit lands inside a library call ...
        except Exception:  # noqa: BLE001 - ... that retries whatever it caught
            pass
        return {"done": True}

    previous = signal.signal(signal.SIGUSR1, billiard_like)
    try:
        monkeypatch.setattr(ct, "call_job", job_that_swallows)
        with pytest.raises(SoftTimeLimitExceeded, match="swallowed"):
            ct._run("extract_frames_and_ocr", {})
        # The next job starts clean.
        monkeypatch.setattr(ct, "call_job", lambda job, kwargs: {"done": True})
        assert ct._run("extract_frames_and_ocr", {}) == {"done": True}
    finally:
        signal.signal(signal.SIGUSR1, previous)


def test_a_job_stops_at_its_next_progress_report_once_the_soft_limit_fired(monkeypatch):
    """Not only is the result dropped: the work stops at the next progress report instead of
    running on to the end (a long crop-and-infer would hold the GPU for nothing)."""
    import workers.celery_tasks as ct

    def billiard_like(signum, frame):
        raise SoftTimeLimitExceeded()

    reports = []

    def long_job(job, kwargs):
        progress = ct.worker_context().progress
        try:
            os.kill(os.getpid(), signal.SIGUSR1)
        except Exception:  # noqa: BLE001 - swallowed inside a library
            pass
        for n in range(1000):
            progress("crop+infer", n, 1000)
            reports.append(n)
        return {"done": True}

    previous = signal.signal(signal.SIGUSR1, billiard_like)
    monkeypatch.setattr(ct, "_ctx", None)
    monkeypatch.setattr(ct, "call_job", long_job)
    try:
        with pytest.raises(SoftTimeLimitExceeded, match="during crop\\+infer"):
            ct._run("crop_and_infer_caption_frame_extents", {})
        assert reports == []
    finally:
        signal.signal(signal.SIGUSR1, previous)
        ct.close_worker_context()
