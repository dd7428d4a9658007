"""The whole video: extract → crop region → crop & infer → caption extents → OCR → captions.

Runs the three jobs in-process on one storage; workers run the same steps through Celery,
Modal or Prefect. Publishes ``captions.db.gz``, ``captions.srt`` and ``captions.vtt``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field

from gpu_kernels.extents.base import BACKWARD_OF, DIFFERENT, PairProbs

from .caption_ocr import ocr_captions
from .context import JobContext
from .crop_infer import (CaptionExtent, crop_and_infer_caption_frame_extents, grid_seconds, load_extents,
                         load_predictions)
from .databases import CAPTIONS_SCHEMA, open_db, new_db, publish_db, set_metadata
from .errors import CaptionAccError
from .extract import extract_frames_and_ocr
from .keys import VideoKeys
from .subtitles import Cue, to_srt, to_vtt
from .types import CropInferResult, CropRegion, ExtractResult

log = logging.getLogger(__name__)


class NoCaptionsFound(CaptionAccError):
    """The video was processed but no caption was found in the crop region."""


@dataclass
class Caption:
    start_frame: int  # 10 Hz index, inclusive
    end_frame: int  # exclusive
    start: float  # seconds
    end: float
    text: str
    confidence: float
    frame_count: int


@dataclass
class PipelineResult:
    captions: list[Caption]
    crop_region: CropRegion
    crop_source: str  # "suggested" | "given"
    duration: float
    extract: ExtractResult | None
    crop_infer: CropInferResult
    keys: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


frames_to_seconds = grid_seconds  # 10 Hz interval → seconds when no boundary was refined


def similar_text(a: str, b: str) -> bool:
    """Same caption read twice with OCR noise: edit distance within 20% of the longer text."""
    if a == b:
        return True
    if not a or not b:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] <= 0.2 * max(len(a), len(b))


# P(different) at a back-to-back junction from which two similar texts are kept apart: the
# model saw the caption change there, so a one-character difference is real, not OCR noise.
CHANGE_SURE = 0.5


def change_at(probs: PairProbs, frame: int) -> float:
    """P(the caption changed between 10 Hz frames ``frame-1`` and ``frame``), both readings."""
    k = frame - 1
    if not 0 <= k < len(probs):
        return 0.0
    return float(0.5 * (probs.forward[k, DIFFERENT] + probs.backward[k, BACKWARD_OF[DIFFERENT]]))


def _same_caption(p: Caption, c: Caption, changes: dict[int, float] | None) -> bool:
    if p.text.split() == c.text.split():
        return True  # one caption split by a background change or scene cut
    if not similar_text(p.text, c.text):
        return False
    # Similar but not equal: OCR noise on one caption, or a true one-character change.
    back_to_back = c.start_frame == p.end_frame
    return not (changes and back_to_back and changes.get(c.start_frame, 0.0) >= CHANGE_SURE)


def merge_captions(caps: list[Caption], max_gap_frames: int = 1,
                   changes: dict[int, float] | None = None) -> list[Caption]:
    """Drop empty texts; join neighbours showing the same text (a split by background change).

    ``changes`` (start frame → :func:`change_at`) keeps back-to-back captions whose texts are
    similar but not equal apart where the model was sure the caption changed."""
    out: list[Caption] = []
    for c in caps:
        if not c.text.strip():
            continue
        if out and c.start_frame - out[-1].end_frame <= max_gap_frames and _same_caption(out[-1], c, changes):
            p = out[-1]
            keep = p if (p.end_frame - p.start_frame) * p.confidence >= (c.end_frame - c.start_frame) * c.confidence else c
            out[-1] = Caption(p.start_frame, c.end_frame, p.start, c.end, keep.text,
                              max(p.confidence, c.confidence), p.frame_count + c.frame_count)
        else:
            out.append(c)
    return out


def suggested_crop(storage, layout_db_key: str) -> tuple[CropRegion, str]:
    """(crop region, "suggested" | "default") from ``layout_config`` of a layout.db."""
    with open_db(storage, layout_db_key) as conn:
        row = conn.execute(
            "SELECT crop_left, crop_top, crop_right, crop_bottom, anchor_type FROM layout_config"
        ).fetchone()
    return CropRegion(*row[:4]), ("suggested" if row[4] != "default" else "default")


def caption_intervals(storage, caption_frame_extents_db_key: str
                      ) -> tuple[list[CaptionExtent], dict, dict[int, float]]:
    """The captions a crop-and-infer run decoded (and refined), the run's metadata, and the
    model's P(different) at each caption's first frame (for :func:`merge_captions`)."""
    with open_db(storage, caption_frame_extents_db_key) as conn:
        probs, meta = load_predictions(conn)
        extents = load_extents(conn)
    return extents, meta, {e.start_frame: change_at(probs, e.start_frame) for e in extents}


def run_video(
    video_key: str,
    tenant_id: str,
    video_id: str,
    crop_region: CropRegion | None = None,
    *,
    ctx: JobContext | None = None,
) -> PipelineResult:
    ctx = ctx or JobContext.from_env()
    keys = VideoKeys(tenant_id, video_id)
    timings: dict[str, float] = {}
    t = time.monotonic()
    extract = extract_frames_and_ocr(video_key, tenant_id, video_id, ctx=ctx)
    timings["extract"] = time.monotonic() - t
    source = "given"
    if crop_region is None:
        crop_region, source = suggested_crop(ctx.storage, extract.layout_db_key)
    t = time.monotonic()
    ci = crop_and_infer_caption_frame_extents(video_key, tenant_id, video_id, crop_region, ctx=ctx)
    timings["crop_infer"] = time.monotonic() - t
    intervals, meta, changes = caption_intervals(ctx.storage, ci.caption_frame_extents_db_key)
    t = time.monotonic()
    caps = []
    ctx.progress("caption-ocr", 0, len(intervals))
    results = ocr_captions(ci.cropped_frames_prefix, [(iv.start_frame, iv.end_frame) for iv in intervals], ctx=ctx)
    for n, (iv, r) in enumerate(zip(intervals, results), 1):
        caps.append(Caption(iv.start_frame, iv.end_frame, iv.start_time, iv.end_time, r.ocr_text,
                            r.confidence, r.frame_count))
        ctx.progress("caption-ocr", n, len(intervals))
    timings["caption_ocr"] = time.monotonic() - t
    captions = merge_captions(caps, changes=changes)
    if not captions:
        raise NoCaptionsFound(
            f"no captions found in crop region {crop_region.as_tuple()} ({source}); "
            "check the region (--crop L,T,R,B) or the video"
        )
    publish_captions(ctx.storage, keys, captions, meta.get("model_version", "?"), ctx.ocr.name)
    return PipelineResult(captions, crop_region, source, extract.duration, extract, ci,
                          keys={"captions_db": keys.captions_db, "srt": keys.captions_srt,
                                "vtt": keys.captions_vtt}, timings=timings)


def cues(captions: list[Caption]) -> list[Cue]:
    return [Cue(c.start, c.end, c.text) for c in captions]


def publish_captions(storage, keys: VideoKeys, captions: list[Caption], model_version: str,
                     ocr_engine: str) -> None:
    srt = to_srt(cues(captions))
    vtt = to_vtt(cues(captions))
    with new_db(CAPTIONS_SCHEMA) as (conn, dbpath):
        # S3 has no multi-object commit: the database, written last, names the subtitle files
        # it belongs with, so a reader can tell a set torn by a crash from a whole one.
        set_metadata(conn, model_version=model_version, ocr_engine=ocr_engine,
                     frame_rate=10.0, created_at=time.time(),
                     srt_sha256=hashlib.sha256(srt.encode("utf-8")).hexdigest(),
                     vtt_sha256=hashlib.sha256(vtt.encode("utf-8")).hexdigest())
        conn.executemany(
            "INSERT INTO captions (start_frame_index, end_frame_index, start_time, end_time, text,"
            " confidence, frame_count) VALUES (?,?,?,?,?,?,?)",
            [(c.start_frame, c.end_frame, c.start, c.end, c.text, c.confidence, c.frame_count)
             for c in captions])
        # Subtitles first, database last: the database is the marker that a run completed.
        storage.put_bytes(keys.captions_srt, srt.encode("utf-8"), "application/x-subrip")
        storage.put_bytes(keys.captions_vtt, vtt.encode("utf-8"), "text/vtt")
        publish_db(conn, dbpath, storage, keys.captions_db)
