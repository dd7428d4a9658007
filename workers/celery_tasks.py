"""The three jobs as Celery tasks, and the one JobContext each worker process shares.

Each task validates its arguments, calls the same ``tasks.*`` function every backend calls, and
returns the result as a plain dict (JSON). Policies live in the task options, not in the body:
hard/soft time limits from the seed's timeouts, late acks that survive a lost worker, and retries
of ``Transient`` failures only — ``BadInput`` is never retried (``throws`` keeps its traceback
out of the error log, since it is the caller's mistake).
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import threading
import time
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_process_shutdown, worker_ready

from gpu_kernels.errors import BadInput, Fatal, InvalidFrameRange, Transient

from .celery_app import JOBS, app

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# One JobContext per process: storage client, OCR engine and extents model load once.

_ctx = None
_ctx_lock = threading.Lock()


def worker_context():
    """This process's JobContext, built from the environment on first use."""
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            from tasks.context import JobContext

            _ctx = JobContext.from_env(progress=_stop_past_soft_limit)
        return _ctx


def close_worker_context() -> None:
    global _ctx
    with _ctx_lock:
        if _ctx is not None:
            _ctx.close()
            _ctx = None


def warm_models(ctx) -> None:
    """Load what ``CAPTIONACC_WARM_MODELS`` names (default ``predictor,ocr``; empty: none)."""
    wanted = os.environ.get("CAPTIONACC_WARM_MODELS", "predictor,ocr")
    for name in filter(None, (w.strip() for w in wanted.split(","))):
        if name in ("predictor", "ocr"):
            getattr(ctx, name)
    from tasks.context import settle_heap

    settle_heap()  # what a worker loaded stays: keep it out of every later collection


@worker_process_init.connect
def _on_process_init(**_kw) -> None:
    # Runs in each pool child after the fork, so CUDA is initialised in the process that uses it.
    warm_models(worker_context())


@worker_process_shutdown.connect
def _on_process_shutdown(**_kw) -> None:
    close_worker_context()


def storage_description(settings=None) -> str:
    """Where this process reads and writes: an absolute directory, or a bucket at an endpoint."""
    from tasks.settings import Settings, wasabi_endpoint

    s = settings or Settings()
    if s.storage == "local":
        return f"local directory {s.storage_root}"
    return f"s3 bucket {s.wasabi_bucket} at {s.s3_endpoint_url or wasabi_endpoint(s.wasabi_region)}"


@worker_ready.connect
def _on_worker_ready(**_kw) -> None:
    # Workers and flows started in different places must see the same data: say where it is.
    log.info("captionacc worker: storage is the %s", storage_description())


# Run times feed the dispatcher's moving averages (kept in the broker's Redis).
_started: dict[str, float] = {}
_redis = None
_BY_TASK_NAME = {j.task_name: j.name for j in JOBS.values()}


def _broker_redis():
    """This process's client of the broker's Redis (job durations, delivery counts), made once."""
    global _redis
    if _redis is None:
        import redis

        _redis = redis.Redis.from_url(app.conf.broker_url)
    return _redis


@task_prerun.connect
def _on_prerun(task_id=None, task=None, **_kw) -> None:
    if task is not None and task.name in _BY_TASK_NAME:
        _started[task_id] = time.monotonic()


@task_postrun.connect
def _on_postrun(task_id=None, task=None, state=None, **_kw) -> None:
    t0 = _started.pop(task_id, None)
    if t0 is None or state != "SUCCESS":
        return
    try:
        from .dispatch_stats import record_duration

        record_duration(_broker_redis(), _BY_TASK_NAME[task.name], "celery", time.monotonic() - t0)
    except Exception:  # noqa: BLE001 - statistics must never fail a job
        log.warning("could not record the duration of %s", task_id, exc_info=True)


# ---------------------------------------------------------------------------------------------
# Argument checks shared by every backend (Celery, Modal, in-process).

_PARAMS = {
    "extract_frames_and_ocr": ("video_key", "tenant_id", "video_id", "frame_rate"),
    "crop_and_infer_caption_frame_extents": ("video_key", "tenant_id", "video_id", "crop_region", "frame_rate",
                                             "extra_regions"),
    "generate_caption_ocr": ("chunks_prefix", "start_frame", "end_frame"),
    "generate_caption_ocr_batch": ("chunks_prefix", "ranges", "known"),
}
_REQUIRED = {
    "extract_frames_and_ocr": ("video_key", "tenant_id", "video_id"),
    "crop_and_infer_caption_frame_extents": ("video_key", "tenant_id", "video_id", "crop_region"),
    "generate_caption_ocr": ("chunks_prefix", "start_frame", "end_frame"),
    "generate_caption_ocr_batch": ("chunks_prefix", "ranges"),
}


def _check(job: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    if job not in JOBS:
        raise BadInput(f"unknown job {job!r}; expected one of {sorted(JOBS)}")
    unknown = set(kwargs) - set(_PARAMS[job])
    missing = [k for k in _REQUIRED[job] if kwargs.get(k) is None]
    if unknown or missing:
        raise BadInput(f"{job}: unknown arguments {sorted(unknown)}, missing {missing}")
    out = dict(kwargs)
    for key in ("video_key", "tenant_id", "video_id", "chunks_prefix"):
        if key in out and not isinstance(out[key], str):
            raise BadInput(f"{job}: {key} must be a string, got {type(out[key]).__name__}")
    if out.get("frame_rate") is not None:
        fr = out["frame_rate"]
        if isinstance(fr, bool) or not isinstance(fr, (int, float)) or not math.isfinite(fr) or fr <= 0:
            raise BadInput(f"{job}: frame_rate must be a positive number, got {fr!r}")
        out["frame_rate"] = float(fr)
    else:
        out.pop("frame_rate", None)
    for key in ("start_frame", "end_frame"):
        if key in out:
            v = out[key]
            if isinstance(v, bool) or not isinstance(v, int):
                raise InvalidFrameRange(f"{job}: {key} must be an integer, got {v!r}")
    if "crop_region" in out:
        from tasks.types import CropRegion

        out["crop_region"] = CropRegion.parse(out["crop_region"])
    if out.get("extra_regions") is not None:
        from tasks.types import CropRegion

        extra = out["extra_regions"]
        if isinstance(extra, (str, bytes, dict)) or not isinstance(extra, (list, tuple)):
            raise BadInput(f"{job}: extra_regions must be a list of crop regions, got {type(extra).__name__}")
        out["extra_regions"] = [CropRegion.parse(r) for r in extra]
    else:
        out.pop("extra_regions", None)
    return out


def call_job(job: str, kwargs: dict[str, Any], ctx=None) -> dict:
    """Validate, run ``tasks.<module>.<job>`` with ``ctx`` and return its result as a dict."""
    args = _check(job, kwargs)
    fn = getattr(importlib.import_module(JOBS[job].module), job)
    return fn(**args, ctx=ctx if ctx is not None else worker_context()).to_dict()


# ---------------------------------------------------------------------------------------------
# The Celery tasks. Routing to gpu-t4/gpu-a10g is by name (celery_app.task_routes).


def _caused_by(exc: BaseException, kind: type) -> bool:
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        if isinstance(e, kind):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


_soft_limit_hit = threading.Event()


def _watch_soft_limit() -> None:
    """Note every soft-limit signal (billiard's SIGUSR1) beside raising it. A library that
    retries whatever its call raised (botocore's standard/adaptive retry wraps any exception of
    an HTTP send as a retryable HTTPClientError) swallows the interruption and the job runs on
    to a result it must not return; the note survives that."""
    import signal

    current = signal.getsignal(signal.SIGUSR1)
    if getattr(current, "_captionacc_watch", False) or not callable(current):
        return

    def noting(signum, frame):
        _soft_limit_hit.set()
        return current(signum, frame)

    noting._captionacc_watch = True  # type: ignore[attr-defined]
    try:
        signal.signal(signal.SIGUSR1, noting)
    except ValueError:  # not the main thread (a threads pool): no soft limits by signal there
        pass


def _stop_past_soft_limit(stage: str, done: int, total: int | None) -> None:
    """The worker's progress hook: a job whose soft-limit interruption a library swallowed
    stops at its next progress report (every few dozen frames), not at its end."""
    if _soft_limit_hit.is_set():
        raise SoftTimeLimitExceeded(f"soft time limit passed during {stage} (the interruption was "
                                    "swallowed inside a library)")


# A job whose process dies (the OOM killer, a crash in a decoder or the GPU driver) goes back to
# the queue (reject_on_worker_lost): right once, but a job that kills every process it runs in
# would be redelivered forever. Past this many losses it fails instead, and its video with it.
MAX_WORKER_LOSSES = 2


class WorkerLostRepeatedly(Fatal):
    """The job's worker process died every time it ran this job."""


def _refuse_after_repeated_losses(job: str) -> None:
    """Count this delivery of the current task in Redis; refuse one delivered more often than
    its retries and MAX_WORKER_LOSSES explain (each retry is a delivery of the same id too)."""
    from celery import current_task

    task_id = getattr(getattr(current_task, "request", None), "id", None)
    if not task_id:
        return
    try:
        key = f"captionacc:deliveries:{task_id}"
        pipe = _broker_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 2 * 24 * 3600)
        n = int(pipe.execute()[0])
    except Exception:  # noqa: BLE001 - a counter must never stop a job
        log.warning("could not count the deliveries of %s", task_id, exc_info=True)
        return
    allowed = 1 + JOBS[job].retries + MAX_WORKER_LOSSES
    if n > allowed:
        raise WorkerLostRepeatedly(
            f"{job} has been started {n - 1} times and its worker process died (out of memory, or a crash "
            f"in a decoder or the GPU driver); not starting it again")


def _run(job: str, kwargs: dict[str, Any]) -> dict:
    """call_job, keeping a soft time limit recognisable: libraries that wrap every exception
    (RapidOCR wraps whatever interrupts onnxruntime) would otherwise turn it into their own,
    and a job whose interruption a library swallowed fails instead of returning late."""
    _refuse_after_repeated_losses(job)
    _watch_soft_limit()
    _soft_limit_hit.clear()
    try:
        result = call_job(job, kwargs)
    except SoftTimeLimitExceeded:
        raise
    except Exception as e:
        if _caused_by(e, SoftTimeLimitExceeded) or _soft_limit_hit.is_set():
            raise SoftTimeLimitExceeded(f"{job} passed its soft time limit") from e
        raise
    if _soft_limit_hit.is_set():
        raise SoftTimeLimitExceeded(f"{job} passed its soft time limit (the interruption was swallowed "
                                    "inside a library; its result is dropped)")
    return result


def _options(job: str) -> dict:
    spec = JOBS[job]
    opts: dict[str, Any] = dict(
        name=spec.task_name,
        time_limit=spec.timeout,
        soft_time_limit=spec.soft_timeout,
        acks_late=True,
        reject_on_worker_lost=True,
        throws=(BadInput,),
        max_retries=spec.retries,
    )
    if spec.retries:
        opts.update(autoretry_for=(Transient,), retry_backoff=2, retry_backoff_max=30, retry_jitter=True)
    return opts


@app.task(**_options("extract_frames_and_ocr"))
def extract_frames_and_ocr(video_key: str, tenant_id: str, video_id: str, frame_rate: float = 0.1) -> dict:
    return _run("extract_frames_and_ocr", dict(
        video_key=video_key, tenant_id=tenant_id, video_id=video_id, frame_rate=frame_rate))


@app.task(**_options("crop_and_infer_caption_frame_extents"))
def crop_and_infer_caption_frame_extents(video_key: str, tenant_id: str, video_id: str,
                                         crop_region: Any, frame_rate: float = 10.0,
                                         extra_regions: Any = None) -> dict:
    return _run("crop_and_infer_caption_frame_extents", dict(
        video_key=video_key, tenant_id=tenant_id, video_id=video_id,
        crop_region=crop_region, frame_rate=frame_rate, extra_regions=extra_regions))


@app.task(**_options("generate_caption_ocr"))
def generate_caption_ocr(chunks_prefix: str, start_frame: int, end_frame: int) -> dict:
    return _run("generate_caption_ocr", dict(
        chunks_prefix=chunks_prefix, start_frame=start_frame, end_frame=end_frame))


@app.task(**_options("generate_caption_ocr_batch"))
def generate_caption_ocr_batch(chunks_prefix: str, ranges: list, known: list | None = None) -> dict:
    return _run("generate_caption_ocr_batch", dict(chunks_prefix=chunks_prefix, ranges=ranges, known=known))


@app.task(name="captionacc.worker_info", time_limit=30)
def worker_info() -> dict:
    """Which process answered and what it has loaded: a health check, and proof that the
    context (and its models) is built once per process."""
    ctx = worker_context()
    return {
        "hostname": worker_info.request.hostname,
        "pid": os.getpid(),
        "context_id": id(ctx),
        "ocr_loaded": ctx._ocr is not None,
        "predictor_loaded": ctx._predictor is not None,
    }
