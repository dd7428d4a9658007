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
