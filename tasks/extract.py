"""Job 1: extract_frames_and_ocr — sampled full frames, thumbnails, OCR, layout suggestion."""

from __future__ import annotations

import heapq
import io
import logging
import math
import time
from typing import Sequence

import numpy as np
from PIL import Image

from gpu_kernels.layout import Box, scene_texts, suggest_regions
from gpu_kernels.stream import threaded
from gpu_kernels.video import DecodeStats, probe, sample_frames, to_rgb_over_bgr

from .context import JobContext
from .storage.metered import MeteredStorage
from .errors import BadInput, Fatal, Transient, is_interruption
from .databases import LAYOUT_SCHEMA, RAW_OCR_SCHEMA, new_db, publish_db, set_metadata
from .inputs import positive_rate, video_keys
from .types import ExtractResult

log = logging.getLogger(__name__)

THUMBNAIL_WIDTH = 320
MIN_LAYOUT_FRAMES = 30  # short clips are sampled more densely so the layout has enough to go on
SHORT_VIDEO_SECONDS = 120.0
OCR_BATCH = 8
DECODE_AHEAD = 4  # full frames decoded ahead of the OCR (2.7 MB each at 720p)
DETECT_FRAMES = 8  # frames read to tell the caption language (--lang auto)
MAX_OCR_FAILED_SHARE = 0.2  # above this the layout would rest on too little: fail, retryably


def sample_times(duration: float, frame_rate: float) -> list[float]:
    """Sample times on the 10 Hz grid: every 1/frame_rate s, denser for short videos."""
    interval = 1.0 / frame_rate
    if duration < SHORT_VIDEO_SECONDS:
        interval = min(interval, max(duration / MIN_LAYOUT_FRAMES, 0.1))
    n = max(1, int(math.floor(duration / interval + 1e-9)))
    indices = sorted({int(round(k * interval * 10)) for k in range(n)})
    last_valid = max(0, int(math.ceil(duration * 10)) - 1)
    return [i / 10 for i in indices if i <= last_valid]


def snap_to_keyframes(times: list[float], keyframes: Sequence[float], duration: float) -> list[float]:
    """Each sample time moved to the first 10 Hz grid time at or after the keyframe nearest it,
    if that keyframe lies within half a sampling interval: the frame there decodes after a seek
    with at most 0.1 s of frames, where the time itself may sit a whole GOP after its keyframe
    (a 2-s GOP sampled every 2 s decoded the whole video). The layout wants frames spread over
    the video, not at exact times; each frame is still the one on screen at its index."""
    if not keyframes or not times:
        return times
    keys = np.asarray(keyframes, dtype=float)
    interval = times[1] - times[0] if len(times) > 1 else max(duration, 0.1)
    last_valid = max(0, int(math.ceil(duration * 10)) - 1)
    out = set()
    for t in times:
        k = float(keys[np.abs(keys - t).argmin()])
        g = int(math.ceil(k * 10 - 1e-6))
        out.add(g / 10 if abs(k - t) <= interval / 2 and g <= last_valid else t)
    return sorted(out)


def detection_times(times: list[float]) -> list[float]:
    """The DETECT_FRAMES of the layout's sample times the language is told from, spread over
    the video."""
    step = max(1, len(times) // DETECT_FRAMES)
    return times[step // 2::step][:DETECT_FRAMES]


def _detect_language(frames: list[np.ndarray], engine) -> str:
    """``--lang auto``: the language of ``frames`` (:func:`tasks.ocr.detect.detect_language`),
    their lines found by the OCR engine's own detector where it has one: it keeps them for the
    layout pass, which reads the same frames next."""
    from .ocr.detect import detect_language

    try:
        return detect_language(frames, engine.line_detector())
    except (BadInput, Fatal):
        raise  # a model to install: the user must know
    except Exception as e:  # noqa: BLE001 - a heuristic's failure must not fail the video
        if is_interruption(e):
            raise
        log.warning("language detection failed (%s); reading with the default recogniser", e, exc_info=True)
        return ""


def _ocr_batch(engine, images: list[np.ndarray]) -> tuple[list[list], int]:
    """OCR a batch; if the engine fails, retry frame by frame so one bad frame costs only itself.

    Returns (boxes per image, number of images whose OCR failed alone: they get no boxes). An
    engine that returns the wrong number of results is a bug, not a partial result.
    """
    n_failed = 0
    try:
        results = engine.recognize_frames(images)
    except (BadInput, Fatal):
        raise
    except Exception as e:  # noqa: BLE001 - engine errors are vendor errors; isolate the bad frame
        if is_interruption(e):
            raise  # a time limit, not a bad frame
        log.warning("OCR batch of %d failed; retrying frame by frame", len(images), exc_info=True)
        results = []
        for img in images:
            try:
                results.append(engine.recognize_frames([img])[0])
            except (BadInput, Fatal):
                raise
            except Exception as e:  # noqa: BLE001
                if is_interruption(e):
                    raise
                n_failed += 1
                results.append([])
    if len(results) != len(images):
        raise Fatal(f"OCR engine returned {len(results)} results for {len(images)} images")
    return results, n_failed


def _pil(img: np.ndarray) -> Image.Image:
    """``img`` (RGB) as a PIL image; an RGB view of BGR pixels (:func:`to_rgb_over_bgr`) is
    unpacked from its BGR bytes rather than copied into RGB first."""
    base = img[..., ::-1]
    if img.ndim == 3 and img.shape[2] == 3 and base.flags.c_contiguous:
        h, w = img.shape[:2]
        return Image.frombuffer("RGB", (w, h), base, "raw", "BGR", 0, 1)
    return Image.fromarray(np.ascontiguousarray(img))


def _jpeg(img: np.ndarray, width: int | None = None, quality: int = 90) -> bytes:
    pil = _pil(img)
    if width is not None and pil.width > width:
        pil = pil.resize((width, max(1, round(pil.height * width / pil.width))), Image.BILINEAR)
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _with_jpegs(frame: tuple[float, np.ndarray]) -> tuple[float, np.ndarray, bytes, bytes]:
    """(time, image, full-frame JPEG, thumbnail JPEG)."""
    t, img = frame
    return t, img, _jpeg(img), _jpeg(img, THUMBNAIL_WIDTH, 80)


def extract_frames_and_ocr(
    video_key: str,
    tenant_id: str,
    video_id: str,
    frame_rate: float = 0.1,
    *,
    ctx: JobContext | None = None,
) -> ExtractResult:
    keys = video_keys(tenant_id, video_id, video_key)
    frame_rate = positive_rate(frame_rate, "frame_rate", 10.0)
    ctx = ctx or JobContext.from_env()
    storage = MeteredStorage(ctx.storage, ctx.limits.max_output_bytes, video_key)
    with storage.open_local(video_key, suffix=".mp4") as path:
        info = probe(path, ctx.limits, name=video_key)
        times = snap_to_keyframes(sample_times(info.duration, frame_rate), info.keyframes, info.duration)
        stats = DecodeStats()
        seen: list[tuple[float, np.ndarray]] = []  # frames decoded for the language, read below
        if ctx.auto_language:
            seen = list(sample_frames(path, detection_times(times), to_rgb_over_bgr, stats, keyframes=info.keyframes))
            ctx.resolve_language(_detect_language([img for _, img in seen], ctx.ocr), keys.layout_db)
        frame_rows, ocr_rows, layout_boxes = [], [], []
        batch: list[tuple[int, float, np.ndarray]] = []
        failed = [0]  # frames whose OCR failed even alone (a cell the closure can update)

        def flush() -> None:
            results, n_failed = _ocr_batch(ctx.ocr, [img for _, _, img in batch])
            failed[0] += n_failed
            for (idx, t, img), boxes in zip(batch, results, strict=True):
                h, w = img.shape[:2]
                frame_rows.append((idx, t, w, h))
                for b_i, b in enumerate(boxes):
                    ocr_rows.append((idx, b_i, b.text, b.confidence, b.x, b.y, b.width, b.height))
                    layout_boxes.append(Box(idx, b.x / w, b.y / h, (b.x + b.width) / w,
                                            (b.y + b.height) / h, b.text, b.confidence))
            batch.clear()

        # Cloud engines bill per image and montage many frames into one: give them bigger batches.
        batch_size = getattr(ctx.ocr, "batch_size", OCR_BATCH)
        ctx.progress("extract", 0, len(times))
        # Decoding (threads of its own in FFmpeg) and the JPEGs run ahead while the OCR engine reads.
        done = {t for t, _ in seen}
        rest = sample_frames(path, [t for t in times if t not in done], to_rgb_over_bgr, stats, keyframes=info.keyframes)
        frames = heapq.merge(map(_with_jpegs, seen),
                             threaded(map(_with_jpegs, rest), maxsize=DECODE_AHEAD, name="layout-decode"),
                             key=lambda f: f[0])
        del seen  # the merge holds them until their turn
        for t, img, full, thumb in frames:
            idx = int(round(t * 10))
            storage.put_bytes(keys.full_frame(idx), full, "image/jpeg")
            storage.put_bytes(keys.thumbnail(idx), thumb, "image/jpeg")
            batch.append((idx, t, img))
            if len(batch) >= batch_size:
                flush()
            ctx.progress("extract", len(frame_rows) + len(batch), len(times))
        if batch:
            flush()

    if failed[0] > MAX_OCR_FAILED_SHARE * max(len(frame_rows), 1):
        raise Transient(f"OCR failed on {failed[0]} of {len(frame_rows)} frames; nothing published")
    regions = suggest_regions(layout_boxes, len(frame_rows), info.width / info.height)
    layout = regions[0]
    band = (layout.crop_left, layout.crop_top, layout.crop_right, layout.crop_bottom)

    with new_db(RAW_OCR_SCHEMA) as (conn, dbpath):
        set_metadata(conn, video_key=video_key, width=info.width, height=info.height,
                     duration=info.duration, fps=info.fps, frame_rate=frame_rate,
                     ocr_engine=ctx.ocr.name, caption_language=ctx.caption_language or "",
                     coordinates="pixels, top-left origin",
                     corrupt_packets=stats.corrupt_packets, ocr_failed_frames=failed[0],
                     created_at=time.time())
        conn.executemany("INSERT INTO frames VALUES (?,?,?,?)", frame_rows)
        conn.executemany(
            "INSERT INTO full_frame_ocr (frame_index, box_index, text, confidence, x, y, width, height)"
            " VALUES (?,?,?,?,?,?,?,?)", ocr_rows)
        publish_db(conn, dbpath, storage, keys.raw_ocr_db)

    with new_db(LAYOUT_SCHEMA) as (conn, dbpath):
        set_metadata(conn, coordinates="fractions of the frame, top-left origin",
                     frame_width=info.width, frame_height=info.height, ocr_engine=ctx.ocr.name,
                     caption_language=ctx.caption_language or "")
        rows = []
        per_frame: dict[int, int] = {}
        for b in layout_boxes:
            k = per_frame.get(b.frame_index, 0)
            per_frame[b.frame_index] = k + 1
            cy = (b.top + b.bottom) / 2
            in_band = int(layout.anchor_type != "default"
                          and any(r.crop_top <= cy <= r.crop_bottom for r in regions))
            rows.append((b.frame_index, k, b.left, b.top, b.right, b.bottom, b.text, b.confidence, in_band))
        conn.executemany(
            "INSERT INTO boxes (frame_index, box_index, bbox_left, bbox_top, bbox_right, bbox_bottom,"
            " text, confidence, in_caption_band) VALUES (?,?,?,?,?,?,?,?,?)", rows)
        conn.execute(
            "INSERT INTO layout_config VALUES (1,?,?,?,?,?,?,?,?,?,?,?,?,'suggested')",
            (info.width, info.height, *band, layout.anchor_type, layout.anchor_position,
             layout.vertical_center, layout.box_height, layout.frames_with_text, layout.confidence))
        conn.executemany(
            "INSERT INTO layout_regions VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [(k, r.crop_left, r.crop_top, r.crop_right, r.crop_bottom, r.anchor_type, r.anchor_position,
              r.vertical_center, r.box_height, r.frames_with_text, r.confidence)
             for k, r in enumerate(regions)])
        conn.executemany("INSERT INTO scene_texts VALUES (?,?)", scene_texts(layout_boxes, len(frame_rows)))
        conn.execute("INSERT INTO preferences (id, layout_approved) VALUES (1, 0)")
        publish_db(conn, dbpath, storage, keys.layout_db)

    if stats.corrupt_packets:
        log.warning("extract %s: %d corrupt packets skipped", video_id, stats.corrupt_packets)
    return ExtractResult(
        frame_count=len(frame_rows),
        duration=round(info.duration, 6),
        ocr_box_count=len(ocr_rows),
        full_frames_key=keys.full_frames + "/",
        ocr_db_key=keys.raw_ocr_db,
        layout_db_key=keys.layout_db,
        crop_region=dict(zip(("crop_left", "crop_top", "crop_right", "crop_bottom"), band)),
        regions=[dict(crop_left=r.crop_left, crop_top=r.crop_top, crop_right=r.crop_right,
                      crop_bottom=r.crop_bottom, anchor_type=r.anchor_type, confidence=r.confidence)
                 for r in regions],
    )
