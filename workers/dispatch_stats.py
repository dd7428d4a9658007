"""The dispatcher's numbers in Redis: job durations (moving averages) and their keys.

Celery workers record their own run times here after each job; the dispatcher reads them. Both
import this module, not each other.
"""

from __future__ import annotations

from datetime import datetime, timezone

from .celery_app import JOBS

KEY = "captionacc:dispatch"
DURATION_SAMPLES = 20


def today() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def record_duration(redis, job: str, backend: str, seconds: float) -> None:
    """Keep the last DURATION_SAMPLES durations of ``job`` on ``backend`` (and of its queue)."""
    keys = [f"{KEY}:durations:{job}:{backend}"]
    if backend == "celery":  # the queue's mean job time estimates the wait behind its backlog
        keys.append(f"{KEY}:durations:queue:{JOBS[job].queue}")
    pipe = redis.pipeline()
    for key in keys:
        pipe.lpush(key, round(float(seconds), 3))
        pipe.ltrim(key, 0, DURATION_SAMPLES - 1)
    pipe.execute()
