"""The Celery app: Redis broker and result backend, one queue per GPU class.

``celery -A workers.celery_app worker -Q gpu-t4`` finds ``app`` here. Creating the app connects to
nothing and reads no configuration: settings are read from the environment the first time the
app is configured (``on_configure``), i.e. when a worker starts or a task is first sent.

Configuration (environment, else ``.env`` in the working directory, as for every setting):
  CAPTIONACC_REDIS_URL / CELERY_BROKER_URL   broker (default redis://127.0.0.1:6379/0)
  CELERY_RESULT_BACKEND                      results (default: the broker URL)
  CAPTIONACC_BROKER_VISIBILITY_TIMEOUT       seconds before an unacked job is redelivered
                                             (default 7200: longer than the longest job, 3600 s)
  CAPTIONACC_BROKER_RESTORE_INTERVAL         seconds between sweeps for abandoned jobs (default 10)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from celery import Celery

QUEUE_T4 = "gpu-t4"
QUEUE_A10G = "gpu-a10g"

# What each GPU class of node consumes: an A10G node also takes T4 work when it is idle.
GPU_QUEUES: dict[str, tuple[str, ...]] = {
    "t4": (QUEUE_T4,),
    "a10g": (QUEUE_A10G, QUEUE_T4),
}


@dataclass(frozen=True)
class JobSpec:
    """One job's contract on every backend (seed: GPU class, timeout, retries)."""

    name: str  # the tasks.* function name, also the Modal function name
    module: str  # the tasks.* module holding it
    gpu: str  # t4 | a10g
    timeout: int  # hard limit, seconds
    retries: int  # retries of retryable (Transient) failures only
    typical_seconds: float  # a duration guess until real ones are measured
    # Redis transport: 0 is served first, across every queue a worker consumes (kombu polls all
    # its queues' priority-0 lists before any priority-3 list). Caption OCR (3) takes seconds and
    # a user waits on it, so it jumps the long extracts (6) sharing the T4 queue (the soak saw
    # p95 113 s without). Crop-and-infer (0) runs only on A10G nodes, which also consume gpu-t4:
    # they serve their own crops first and help with T4 work when they have none.
    priority: int = 6

    @property
    def task_name(self) -> str:
        return f"captionacc.{self.name}"

    @property
    def queue(self) -> str:
        return QUEUE_A10G if self.gpu == "a10g" else QUEUE_T4

    @property
    def soft_timeout(self) -> int:
        # Early enough for the job to unwind (temp dirs, open files) before the hard kill.
        return self.timeout - max(10, min(60, self.timeout // 20))


JOBS: dict[str, JobSpec] = {
    j.name: j
    for j in (
        JobSpec("extract_frames_and_ocr", "tasks.extract", "t4", 1800, 0, 300.0),
        JobSpec("crop_and_infer_caption_frame_extents", "tasks.crop_infer", "a10g", 3600, 0, 900.0, priority=0),
        JobSpec("generate_caption_ocr", "tasks.caption_ocr", "t4", 300, 1, 30.0, priority=3),
        # Ours, beside the seed's three: a flow's captions in batches (tasks.caption_ocr.MAX_BATCH).
        JobSpec("generate_caption_ocr_batch", "tasks.caption_ocr", "t4", 1800, 1, 60.0, priority=3),
    )
}

# CLI short names
JOB_ALIASES = {
    "extract": "extract_frames_and_ocr",
    "crop-infer": "crop_and_infer_caption_frame_extents",
    "caption-ocr": "generate_caption_ocr",
    "caption-ocr-batch": "generate_caption_ocr_batch",
}


def env_setting(name: str) -> str | None:
    """A variable from the environment, else from ``.env`` in the working directory: where
    every other setting is read from (tasks.settings), so a broker named only in ``.env`` is
    not silently swapped for the default one."""
    value = os.environ.get(name)
    if value:
        return value
    if os.path.isfile(".env"):
        from dotenv import dotenv_values

        return dotenv_values(".env", encoding="utf-8").get(name) or None
    return None


def configured_broker_url() -> str | None:
    """The broker this deployment names, if any (the dispatcher connects only then)."""
    return env_setting("CAPTIONACC_REDIS_URL") or env_setting("CELERY_BROKER_URL") or env_setting("REDIS_URL")


def broker_url() -> str:
    return configured_broker_url() or "redis://127.0.0.1:6379/0"


def send_job(app, job: str, kwargs: dict):
    """Send ``job`` to its GPU queue at its priority; returns the AsyncResult."""
    spec = JOBS[job]
    return app.send_task(spec.task_name, kwargs=kwargs, queue=spec.queue, priority=spec.priority)


def unreachable_redis(url: str, timeout: float = 3.0) -> str | None:
    """"Redis at HOST:PORT is unreachable (why)" when ``url`` does not answer a ping within
    ``timeout`` seconds, None when it does. The address only: a URL may hold a password."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    where = "{host}:{port}".format(**{"host": "?", "port": "?", **client.connection_pool.connection_kwargs})
    try:
        client.ping()
    except redis.RedisError as e:
        return f"Redis at {where} is unreachable ({e})"
    finally:
        client.close()
    return None


def celery_config() -> dict:
    """The settings, read from the environment now."""
    url = broker_url()
    longest = max(j.timeout for j in JOBS.values())
    visibility = int(env_setting("CAPTIONACC_BROKER_VISIBILITY_TIMEOUT") or str(2 * longest))
    restore = int(env_setting("CAPTIONACC_BROKER_RESTORE_INTERVAL") or "10")
    transport = {
        "visibility_timeout": visibility,
        "unacked_restore_interval": restore,
        "unacked_restore_throttle": 1,
    }
    return dict(
        broker_url=url,
        result_backend=env_setting("CELERY_RESULT_BACKEND") or url,
        broker_transport_options=transport,
        result_backend_transport_options={"visibility_timeout": visibility},
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        result_expires=24 * 3600,
        result_extended=True,  # results carry the worker's name, args and queue
        task_track_started=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # A failed or timed-out job is acknowledged (its error is the result); a lost worker is not.
        task_acks_on_failure=True,
        task_acks_on_timeout=True,
        worker_prefetch_multiplier=1,
        # A worker process whose resident memory passed this after a task is replaced (KiB): a
        # leak or a fragmented heap never accumulates on a GPU node. One task's own size is
        # bounded up front by the limits per video (CAPTIONACC_MAX_*).
        worker_max_memory_per_child=int(env_setting("CAPTIONACC_WORKER_MAX_MEMORY_MB") or "6144") * 1024,
        worker_send_task_events=True,  # Flower
        task_send_sent_event=True,
        task_default_queue=QUEUE_T4,
        task_create_missing_queues=True,
        # The priority rides on the route, so `celery call captionacc.generate_caption_ocr …`
        # (which has no --priority) sends caption OCR ahead of queued extracts too.
        task_routes={j.task_name: {"queue": j.queue, "priority": j.priority} for j in JOBS.values()},
        timezone="UTC",
        enable_utc=True,
    )


class _EnvConfig(Mapping):
    """Celery's configuration source, read from the environment on first use, not at import."""

    def __init__(self) -> None:
        self._data: dict | None = None

    def _get(self) -> dict:
        if self._data is None:
            self._data = celery_config()
        return self._data

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def make_app() -> Celery:
    celery = Celery("captionacc", include=["workers.celery_tasks"])
    celery.config_from_object(_EnvConfig())
    return celery


app = make_app()
