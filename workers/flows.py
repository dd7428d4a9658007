"""Prefect 3 flows: each GPU job goes through the dispatcher; the video's status goes to ``videos``.

Flows (names are the deployment names in ``prefect.yaml``):
  captionacc-video-initial-processing              extract_frames_and_ocr
  captionacc-crop-and-infer-caption-frame-extents  crop_and_infer_caption_frame_extents
  captionacc-caption-ocr                           generate_caption_ocr_batch over the captions
                                                   (CAPTIONS_PER_BATCH a job, fanned out), then
                                                   captions.db.gz / .srt / .vtt
  captionacc-process-video                         the whole video: all of the above in order

GPU calls are Prefect tasks with ``retries=0``: the backend (Celery/Modal) owns retries. Status:
``processing`` while a flow runs, ``active`` when it completes, ``error`` with "Processing
timeout" when the backend times out, or with the job's error text when the job fails.
``backend`` (auto|celery|modal|local) overrides the dispatcher's choice; ``timeout_s`` overrides
how long a GPU call may take before it counts as a timeout.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Optional

from prefect import flow, get_run_logger, task
from prefect.task_runners import ThreadPoolTaskRunner

from .dispatcher import BackendTimeout, default_dispatcher
from .videos_db import TIMEOUT_MESSAGE, VideoStore

# ---------------------------------------------------------------------------------------------
# Tasks


@task(name="gpu-job", task_run_name="{job}", retries=0)
def gpu_job(job: str, kwargs: dict, backend: Optional[str] = None, deadline_s: Optional[float] = None,
            priority: str = "normal", timeout_s: Optional[float] = None) -> dict:
    """One GPU job through the dispatcher; the decision is logged with its reason and estimates."""
    result, decision = default_dispatcher().dispatch(
        job, kwargs, backend=None if backend in (None, "auto") else backend,
        deadline_s=deadline_s, priority=priority, timeout=timeout_s)
    get_run_logger().info("%s ran on %s (%s): %s", job, decision.backend, decision.reason, decision.detail)
    return result


# Caption OCR fans out one task per batch of captions; Prefect's default thread pool is
# unbounded, so a caller's many intervals would start a thread (and a result-backend connection)
# each. Jobs beyond this wait for a free thread; the GPU queues bound the real concurrency.
FAN_OUT_THREADS = 16


def _fan_out_runner() -> ThreadPoolTaskRunner:
    return ThreadPoolTaskRunner(max_workers=FAN_OUT_THREADS)


_stores: dict[str, VideoStore] = {}
_stores_lock = threading.Lock()


def video_store(database_url: Optional[str] = None) -> VideoStore:
    """One VideoStore (engine and connection pool) per database URL in this process."""
    from .videos_db import database_url as default_url

    url = database_url or default_url()
    with _stores_lock:
        if url not in _stores:
            _stores[url] = VideoStore(url)
        return _stores[url]


@task(name="update-video", retries=2, retry_delay_seconds=1)
def update_video(video_id: str, tenant_id: str, database_url: Optional[str] = None, **fields: Any) -> None:
    video_store(database_url).upsert(video_id, tenant_id, **fields)


@contextmanager
def _status(video_id: str, tenant_id: str, database_url: Optional[str], stage: str, final: bool = True):
    """processing on entry; active on success (if ``final``); error with the reason on failure."""
    update_video(video_id, tenant_id, database_url, status="processing", error=None, stage=stage)
    try:
        yield
    except BackendTimeout:
        update_video(video_id, tenant_id, database_url, status="error", error=TIMEOUT_MESSAGE, stage=stage)
        raise
    except Exception as e:
        # The error's type is kept beside its text: `captionacc submit --wait` tells bad input
        # (exit 2) from a failure (exit 3) by it.
        details = dict((video_store(database_url).get(video_id) or {}).get("details") or {})
        update_video(video_id, tenant_id, database_url, status="error",
                     error=str(e) or type(e).__name__, stage=stage,
                     details=dict(details, error_type=type(e).__name__))
        raise
    if final:
        update_video(video_id, tenant_id, database_url, status="active", error=None, stage=stage)


def _storage():
    from tasks.storage import open_storage

    return open_storage()


# ---------------------------------------------------------------------------------------------
# Steps (shared by the single-step flows and the whole-video flow)


def _extract(video_id, tenant_id, storage_key, frame_rate, backend, timeout_s, database_url) -> dict:
    result = gpu_job("extract_frames_and_ocr", dict(video_key=storage_key, tenant_id=tenant_id,
                                                    video_id=video_id, frame_rate=frame_rate),
                     backend=backend, timeout_s=timeout_s)
    update_video(video_id, tenant_id, database_url, storage_key=storage_key,
                 frame_count=result["frame_count"], duration_seconds=result["duration"],
                 ocr_box_count=result["ocr_box_count"],
                 details={"extract": result})
    return result


def suggested_crop(layout_db_key: str) -> dict:
    """The crop region the layout step suggested (``layout_config`` of layout.db)."""
    from tasks.pipeline import suggested_crop as read_crop

    with _storage() as storage:
        region, _source = read_crop(storage, layout_db_key)
    return dict(region.__dict__)


def suggested_regions(layout_db_key: str) -> list[dict]:
    """Every caption region the layout step suggested, primary first (``layout_regions``)."""
    from tasks.pipeline import suggested_regions as read_regions

    with _storage() as storage:
        regions, _source = read_regions(storage, layout_db_key)
    return [dict(r.__dict__) for r in regions]


def _crop_infer(video_id, tenant_id, storage_key, crop_region, backend, timeout_s, database_url,
                extra_regions=None) -> dict:
    from tasks.types import CropRegion

    region = CropRegion.parse(crop_region)
    args = dict(video_key=storage_key, tenant_id=tenant_id, video_id=video_id,
                crop_region=dict(region.__dict__))
    if extra_regions:  # one decode pass crops every region
        args["extra_regions"] = [dict(CropRegion.parse(r).__dict__) for r in extra_regions]
    result = gpu_job("crop_and_infer_caption_frame_extents", args, backend=backend, timeout_s=timeout_s)
    update_video(video_id, tenant_id, database_url, cropped_frames_version=result["version"],
                 **region.__dict__)
    return result


def caption_intervals(caption_frame_extents_db_key: str, region: int = 0) -> tuple[list[list], str]:
    """([start, end, start_s, end_s, P(change at start), score] per caption as the
    crop-and-infer run decoded, refined and OCR-checked them in one region, model version)."""
    from tasks.pipeline import caption_intervals as read_intervals

    with _storage() as storage:
        extents, meta, changes = read_intervals(storage, caption_frame_extents_db_key, region)
    return ([[e.start_frame, e.end_frame, e.start_time, e.end_time, changes[e.start_frame], e.score]
             for e in extents],
            str(meta.get("model_version", "?")))


def _caption_ocr(video_id, tenant_id, chunks_prefix, captions, duration, backend, timeout_s,
                 database_url) -> list[dict]:
    merged, model_version = _ocr_region(video_id, tenant_id, chunks_prefix, captions, duration, backend,
                                        timeout_s)
    return _publish(video_id, tenant_id, merged, model_version, database_url, len(captions or []))


def _publish(video_id, tenant_id, merged, model_version, database_url, n_intervals, regions=None) -> list[dict]:
    import os

    from tasks.keys import VideoKeys
    from tasks.pipeline import NoCaptionsFound, publish_captions

    if not merged:
        raise NoCaptionsFound(f"no caption text found in {n_intervals or 'any'} caption interval(s)")
    keys = VideoKeys(tenant_id, video_id)
    with _storage() as storage:
        publish_captions(storage, keys, merged, model_version, os.environ.get("CAPTIONACC_OCR", "rapidocr"),
                         regions=regions)
    out = [dict(start_frame=c.start_frame, end_frame=c.end_frame, start=c.start, end=c.end, text=c.text,
                confidence=c.confidence, region_index=c.region_index) for c in merged]
    update_video(video_id, tenant_id, database_url, caption_count=len(out))
    return out


# Captions per caption-OCR job of a flow: one job per caption (the seed's) cost a Celery task, a
# Prefect task thread and a fresh read of the caption's chunks each (~1,200 per video hour); a
# batch reads its chunks once. Big enough to amortise that, small enough that a video's batches
# spread over several workers (a 10-min video: ~4 jobs). A multiple of the OCR engines' batch
# (RapidOCR and Tesseract: 12 medians a call): the medians share montages exactly as in
# `captionacc run`, whose readings a batch then repeats (64 changed 1 of 231 captions). Google
# Vision montages 64 a call: its montages differ at a batch's edges.
CAPTIONS_PER_BATCH = 60
# Frames beside a batch in which other captions matter to it: how far a caption-free reference
# can lie (tasks.caption_ocr: a near stretch up to REFERENCE_REACH away, a far one FAR_OFFSET and
# another REFERENCE_REACH beyond it; a test keeps this in step). 200 missed one caption of 231.
NEAR_FRAMES = 330


def caption_batches(n: int, size: int | None = None) -> list[tuple[int, int]]:
    """[a, b) index ranges over ``n`` captions in time order: consecutive, all of one size
    (default CAPTIONS_PER_BATCH) but the last, so each batch covers one stretch of the video."""
    size = size or CAPTIONS_PER_BATCH
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def _near(spans: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    """The captions outside batch [a, b) within NEAR_FRAMES of it."""
    lo, hi = min(s for s, _ in spans[a:b]) - NEAR_FRAMES, max(e for _, e in spans[a:b]) + NEAR_FRAMES
    return [r for k, r in enumerate(spans) if not a <= k < b and r[1] > lo and r[0] < hi]


def _rereader(chunks_prefix, spans, backend, timeout_s):
    """``reread(start, end)`` for :func:`tasks.rejoin.rejoin_pieces`: one caption-OCR job for
    frames [start, end), the region's other intervals known to it, as ``captionacc run`` reads
    it (:func:`tasks.pipeline._rereader`)."""
    from tasks.rejoin import others
    from tasks.types import CaptionOcrResult

    def reread(start: int, end: int) -> CaptionOcrResult:
        known = [list(r) for r in others(spans, start, end)]
        r = gpu_job.submit("generate_caption_ocr_batch",
                           dict(chunks_prefix=chunks_prefix, ranges=[[start, end]], known=known),
                           backend=backend, timeout_s=timeout_s).result()["captions"][0]
        return CaptionOcrResult(r["ocr_text"], r["confidence"], r["frame_count"])

    return reread


def _ocr_region(video_id, tenant_id, chunks_prefix, captions, duration, backend, timeout_s,
                region_index: int = 0) -> tuple[list, str]:
    """One region's captions: every interval OCR'd (in batches, fanned out), then merged."""
    from tasks.keys import VideoKeys, parse_chunks_prefix
    import os

    from tasks.pipeline import Caption, caption_floor, frames_to_seconds, merge_captions
    from tasks.rejoin import rejoin_pieces
    from tasks.types import HESITATION_SCORE

    keys, _version = parse_chunks_prefix(chunks_prefix)
    own = VideoKeys(tenant_id, video_id)
    if (keys.tenant_id, keys.video_id) != (own.tenant_id, own.video_id):
        from gpu_kernels.errors import InvalidId

        raise InvalidId(f"chunks_prefix {chunks_prefix!r} is not video {video_id} of tenant {tenant_id}")
    model_version = "given"
    if captions is None:
        captions, model_version = caption_intervals(keys.caption_frame_extents_db, region_index)
    spans = [(int(c[0]), int(c[1])) for c in captions]
    futures = [gpu_job.submit("generate_caption_ocr_batch",
                              dict(chunks_prefix=chunks_prefix, ranges=[list(r) for r in spans[a:b]],
                                   known=[list(r) for r in _near(spans, a, b)]),
                              backend=backend, timeout_s=timeout_s)
               for a, b in caption_batches(len(spans))]
    results = [r for fut in futures for r in fut.result()["captions"]]
    caps = []
    for c, r in zip(captions, results, strict=True):
        s, e = int(c[0]), int(c[1])
        # Stored extents carry exact times; intervals given by a caller are on the 10 Hz grid.
        t0, t1 = (float(c[2]), float(c[3])) if len(c) >= 4 else frames_to_seconds(s, e, duration or 0.0)
        caps.append(Caption(int(s), int(e), t0, t1, r["ocr_text"], r["confidence"], r["frame_count"],
                            region_index, len(c) >= 6 and float(c[5]) <= HESITATION_SCORE))
    caps = rejoin_pieces(caps, _rereader(chunks_prefix, spans, backend, timeout_s))
    # Stored extents carry the model's verdict at each junction; a caller's intervals do not.
    merged = merge_captions(caps, changes={int(c[0]): float(c[4]) for c in captions if len(c) >= 5} or None,
                            min_confidence=caption_floor(os.environ.get("CAPTIONACC_OCR", "rapidocr")))
    return merged, model_version


# ---------------------------------------------------------------------------------------------
# Flows


@flow(name="captionacc-video-initial-processing")
def video_initial_processing(video_id: str, tenant_id: str, storage_key: str, frame_rate: float = 0.1,
                             backend: Optional[str] = None, timeout_s: Optional[float] = None,
                             database_url: Optional[str] = None) -> dict:
    get_run_logger().info("initial processing of video %s", video_id)
    with _status(video_id, tenant_id, database_url, "initial-processing"):
        return _extract(video_id, tenant_id, storage_key, frame_rate, backend, timeout_s, database_url)


@flow(name="captionacc-crop-and-infer-caption-frame-extents")
def crop_and_infer(video_id: str, tenant_id: str, storage_key: str, crop_region: Any,
                   backend: Optional[str] = None, timeout_s: Optional[float] = None,
                   database_url: Optional[str] = None) -> dict:
    with _status(video_id, tenant_id, database_url, "crop-and-infer"):
        return _crop_infer(video_id, tenant_id, storage_key, crop_region, backend, timeout_s, database_url)


@flow(name="captionacc-caption-ocr", task_runner=_fan_out_runner())
def caption_ocr(video_id: str, tenant_id: str, chunks_prefix: str,
                captions: Optional[list[list[float]]] = None, duration: Optional[float] = None,
                backend: Optional[str] = None, timeout_s: Optional[float] = None,
                database_url: Optional[str] = None) -> list[dict]:
    """OCR every caption of a video (fanned out), then publish captions.db.gz/.srt/.vtt.
    ``captions`` are [start, end) frame intervals; by default decoded from the stored predictions."""
    with _status(video_id, tenant_id, database_url, "caption-ocr"):
        return _caption_ocr(video_id, tenant_id, chunks_prefix, captions, duration, backend, timeout_s,
                            database_url)


@flow(name="captionacc-process-video", task_runner=_fan_out_runner())
def process_video(video_id: str, tenant_id: str, storage_key: str, crop_region: Any = None,
                  frame_rate: float = 0.1, backend: Optional[str] = None, timeout_s: Optional[float] = None,
                  database_url: Optional[str] = None) -> dict:
    """The whole video: extract → (suggested) crop → crop & infer → caption OCR → captions."""
    with _status(video_id, tenant_id, database_url, "process-video"):
        ex = _extract(video_id, tenant_id, storage_key, frame_rate, backend, timeout_s, database_url)
        from tasks.pipeline import across_regions
        from tasks.types import CropRegion

        regions = ([CropRegion.parse(crop_region).__dict__] if crop_region is not None
                   else suggested_regions(ex["layout_db_key"]))
        region = regions[0]
        ci = _crop_infer(video_id, tenant_id, storage_key, region, backend, timeout_s, database_url,
                         extra_regions=regions[1:])
        merged, model_version = [], "?"
        for reg in ci.get("regions") or [{"region_index": 0, "cropped_frames_prefix": ci["cropped_frames_prefix"]}]:
            caps, model_version = _ocr_region(video_id, tenant_id, reg["cropped_frames_prefix"], None,
                                              ex["duration"], backend, timeout_s, reg["region_index"])
            merged += caps
        merged = across_regions(merged)
        captions = _publish(video_id, tenant_id, merged, model_version, database_url, 0,
                            regions=[CropRegion.parse(r) for r in regions])
        return {"extract": ex, "crop_region": dict(region), "regions": regions, "crop_infer": ci,
                "captions": captions}
