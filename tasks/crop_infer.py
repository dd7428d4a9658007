"""Job 2: crop_and_infer_caption_frame_extents — 10 Hz crops → VP9 chunks + pair predictions.

One decode pass feeds both consumers: every cropped frame goes to the chunk writer and to the
pair predictor (in overlapping batches so each consecutive pair is classified exactly once).
Outputs are published in an order that never shows a half-done run as complete: chunks, then
the manifest, then the predictions database.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Sequence

import numpy as np

from gpu_kernels.band import band_cropper
from gpu_kernels.crop import region_to_box
from gpu_kernels.extents import CLASSES, PairProbs, decode_intervals
from gpu_kernels.extents.windows import BoundaryWindows
from gpu_kernels.stream import Sink, threaded
from gpu_kernels.video import DecodeStats, iter_grid_windows, probe

from .chunks import ChunkReader, ChunkWriter
from .caption_language import settle_language
from .context import JobContext
from .storage.metered import MeteredStorage
from .databases import EXTENTS_SCHEMA, new_db, publish_db
from .errors import BadInput, CorruptData, InvalidVideo, MissingObject
from .inputs import video_keys
from .keys import VideoKeys, manifest_key
from .scene_text import scene_texts_of
from .types import CropInferResult, CropRegion

log = logging.getLogger(__name__)

# Frames per predict(). Source frames wait for their pair's verdict (BoundaryWindows), so the
# batch and the decode queue bound that memory: ~64 samples x 3 bands (~1 MB each at 1080p).
INFER_BATCH = 32
DECODE_AHEAD = 32
_VERSION_RE = re.compile(r"/cropped_frames_v(\d+)/")


CLAIM = ".claim"
# A claim this old with no manifest beside it belongs to a run that was killed (SIGKILL, lost
# node) before it could clean up: 6 h is six times the longest job's hard time limit (1 h).
STALE_CLAIM_S = 6 * 3600


def claim_version(storage, keys: VideoKeys, run_id: str, now: float | None = None) -> int:
    """Reserve the next cropped-frames version for this run.

    Listing gives the highest version seen; an exclusive create of ``{version}/.claim`` makes
    the number this run's alone, so two concurrent runs on one video (a redelivered task, a
    resubmitted crop) never share a version or delete each other's chunks. Versions left by
    killed runs (a claim older than ``STALE_CLAIM_S``, no manifest) are deleted on the way;
    their numbers are not reused.
    """
    now = time.time() if now is None else now
    listing = set(storage.list(keys.client))
    found = [int(m.group(1)) for k in listing if (m := _VERSION_RE.search(k))]
    for v in sorted(set(found)):
        prefix = keys.cropped_frames(v)
        if f"{prefix}/{CLAIM}" in listing and manifest_key(prefix) not in listing:
            _drop_if_stale(storage, prefix, now)
    version = max(found, default=0) + 1
    claim = json.dumps({"run_id": run_id, "claimed_at": now}).encode()
    while not storage.create_exclusive(f"{keys.cropped_frames(version)}/{CLAIM}", claim):
        version += 1
    return version


def _claimed_at(storage, key: str) -> float:
    """The claim's own time; for a claim written before claims carried one (a plain run id),
    the time the store last wrote it."""
    try:
        return float(json.loads(storage.get_bytes(key))["claimed_at"])
    except (ValueError, TypeError, KeyError):
        return storage.modified_at(key)


def _drop_if_stale(storage, prefix: str, now: float) -> None:
    try:
        claimed_at = _claimed_at(storage, f"{prefix}/{CLAIM}")
    except MissingObject:  # gone meanwhile (its run finished or another run cleaned it)
        return
    if now - claimed_at > STALE_CLAIM_S:
        log.warning("deleting %s: claimed %.1f h ago, never completed", prefix, (now - claimed_at) / 3600)
        storage.delete_prefix(prefix)


class _PairStream:
    """Feeds frames to the predictor in overlapping batches; collects probabilities."""

    def __init__(self, predictor, batch: int, on_part=None) -> None:
        self.predictor, self.batch, self.on_part = predictor, batch, on_part
        self.buf: list[np.ndarray] = []
        self.parts: list[PairProbs] = []

    def add(self, frame: np.ndarray) -> None:
        self.buf.append(frame)
        if len(self.buf) >= self.batch:
            self._run()

    def _run(self) -> None:
        if len(self.buf) >= 2:
            part = self.predictor.predict(np.stack(self.buf))
            self.parts.append(part)
            if self.on_part is not None:
                self.on_part(part)
        self.buf = self.buf[-1:]  # the last frame opens the next batch's first pair

    def finish(self) -> PairProbs:
        self._run()
        return PairProbs.concat(self.parts)


class _RegionRun:
    """One caption region's share of the decode pass: its chunks, pair stream and windows."""

    def __init__(self, storage, keys: VideoKeys, region: CropRegion, box, predictor, refine: bool,
                 run_id: str) -> None:
        self.region, self.box = region, box
        self.version = claim_version(storage, keys, run_id)
        self.prefix = keys.cropped_frames(self.version)
        self.writer = ChunkWriter(box[2] - box[0], box[3] - box[1],
                                  lambda rel, local: storage.put_file(f"{self.prefix}/{rel}", local, "video/webm"))
        self.windows = BoundaryWindows(predictor) if refine else None
        self.pairs = _PairStream(predictor, INFER_BATCH, self.windows.observe if self.windows else None)
        self.probs: PairProbs | None = None
        self.extents: list[CaptionExtent] = []


def _multi_cropper(boxes):
    """One frame → the band of every region, cut from the same decoded frame."""
    fns = [band_cropper(b) for b in boxes]
    return lambda frame: tuple(fn(frame) for fn in fns)


def crop_and_infer_caption_frame_extents(
    video_key: str,
    tenant_id: str,
    video_id: str,
    crop_region: CropRegion | dict | str,
    frame_rate: float = 10.0,
    *,
    ctx: JobContext | None = None,
    extra_regions: Sequence[CropRegion | dict | str] | None = None,
) -> CropInferResult:
    """Crop ``crop_region`` (region 0) and each of ``extra_regions`` (regions 1, 2, …) in one
    decode pass. Every region gets its own cropped-frames version, pair predictions and caption
    extents; region 0's are where a one-region reader looks for them."""
    keys = video_keys(tenant_id, video_id, video_key)
    regions = [CropRegion.parse(crop_region)] + [CropRegion.parse(r) for r in (extra_regions or [])]
    if frame_rate != 10.0:
        raise BadInput(f"frame_rate must be 10.0: frame indices live in one 10 Hz space (got {frame_rate})")
    ctx = ctx or JobContext.from_env()
    settle_language(ctx, keys.layout_db)  # --lang auto: the extract job's verdict
    storage = MeteredStorage(ctx.storage, ctx.limits.max_output_bytes, video_key)
    started = datetime.now(timezone.utc)
    t0 = time.monotonic()
    with storage.open_local(video_key, suffix=".mp4") as path:
        info = probe(path, ctx.limits, name=video_key)
        boxes = [region_to_box(*r.as_tuple(), info.width, info.height) for r in regions]
        run_id = str(uuid.uuid4())
        predictor = ctx.predictor
        runs: list[_RegionRun] = []
        stats = DecodeStats()
        expected = max(1, int(info.duration * 10))
        try:
            for r, box in zip(regions, boxes):
                runs.append(_RegionRun(storage, keys, r, box, predictor, ctx.refine_boundaries, run_id))
            refine = ctx.refine_boundaries
            ctx.progress("crop+infer", 0, expected)
            # Three stages overlap: decode + crop (YUV bands, no full-frame RGB) in one thread,
            # VP9 encoding in one thread per region, inference here. Bounded queues keep memory
            # flat whatever the video's length; every source frame's band is kept only until its
            # pair is read.
            frames = threaded(iter_grid_windows(path, frame_rate, _multi_cropper(boxes), stats,
                                                windows=refine, hwaccel=ctx.hwaccel, limits=ctx.limits),
                              maxsize=DECODE_AHEAD, name="decode")
            with contextlib.ExitStack() as stack:
                encoders = [stack.enter_context(Sink(lambda item, w=run.writer: w.add(*item),
                                                     maxsize=DECODE_AHEAD, name=f"vp9-{k}"))
                            for k, run in enumerate(runs)]
                for idx, bands, window in frames:
                    for k, (run, band) in enumerate(zip(runs, bands)):
                        encoders[k].put((idx, band))
                        if run.windows is not None:
                            run.windows.add(idx, band, [(t, bs[k]) for t, bs in window])
                        run.pairs.add(band.rgb())
                    if idx % 50 == 0:
                        ctx.progress("crop+infer", idx, expected)
            for run in runs:
                run.probs = run.pairs.finish()
            n = runs[0].writer.frame_count
            if n == 0:
                raise InvalidVideo(f"no frames decoded from {video_key}")
            ctx.progress("crop+infer", n, n)
            layout_boxes, scene = _layout_hints(storage, keys) if ctx.check_extents else ([], ())
            for k, run in enumerate(runs):
                run.extents = caption_extents(path, run.box, run.probs, info.duration, predictor,
                                              run.windows, region_index=k)
                manifest = run.writer.finish(
                    version=run.version, crop_region=run.region.__dict__, crop_box=list(run.box),
                    region_index=k,
                    source={"width": info.width, "height": info.height, "fps": info.fps,
                            "duration": info.duration, "corrupt_packets": stats.corrupt_packets},
                )
                storage.put_bytes(manifest_key(run.prefix), json.dumps(manifest).encode(), "application/json")
                if ctx.check_extents:
                    from .extent_check import check_extents, layout_evidence  # they build on CaptionExtent

                    # Spans the model was unsure of (busy real backgrounds) or that are long, and
                    # gaps where the layout's OCR read text no span covers: OCR at several points,
                    # split where the text changes, trim where absent.
                    with ChunkReader(storage, run.prefix) as reader:
                        run.extents = check_extents(
                            reader, run.extents, run.probs, ctx.ocr, info.duration, device=ctx.device,
                            evidence=layout_evidence(layout_boxes, run.region), scene=scene)
            _publish_predictions(storage, keys, runs, predictor.model_version,
                                 started, time.monotonic() - t0, n, str(ctx.device), run_id)
            for run in runs:
                storage.delete(f"{run.prefix}/{CLAIM}")  # the manifest now holds the number
        except BaseException:
            # Nothing of a failed run may look complete: drop its chunks (no manifest was written,
            # or it is removed with them).
            for run in runs:
                run.writer.close()
                try:
                    storage.delete_prefix(run.prefix)
                except Exception:  # noqa: BLE001 - the original error matters more
                    log.exception("could not clean up %s", run.prefix)
            raise
    return CropInferResult(
        version=runs[0].version,
        caption_frame_extents_db_key=keys.caption_frame_extents_db,
        cropped_frames_prefix=runs[0].prefix + "/",
        regions=tuple({"region_index": k, "crop_region": run.region.__dict__, "version": run.version,
                       "cropped_frames_prefix": run.prefix + "/"} for k, run in enumerate(runs)),
    )


def _layout_hints(storage, keys: VideoKeys) -> tuple[list[tuple], tuple[str, ...]]:
    """From the extract step's layout.db (one read), if it ran: its OCR boxes, evidence of
    captions the model may have missed, and its scene texts (:mod:`.scene_text`). None of it is
    required: without a layout.db the check has no evidence and no scene text."""
    from .databases import open_db

    try:
        with open_db(storage, keys.layout_db) as conn:
            scene = scene_texts_of(conn)
            anchor = conn.execute("SELECT anchor_type FROM layout_config").fetchone()
            if anchor is None or anchor[0] == "default":
                return [], scene  # no caption band was found: the text it read is the scene's
            return conn.execute("SELECT frame_index, bbox_left, bbox_top, bbox_right, bbox_bottom, text,"
                                " confidence FROM boxes").fetchall(), scene
    except (MissingObject, CorruptData, sqlite3.DatabaseError) as e:
        log.info("no layout boxes for the extent check (%s)", e)
        return [], ()


@dataclass(frozen=True)
class CaptionExtent:
    """One caption: 10 Hz frame indices [start_frame, end_frame) and times in seconds."""

    start_frame: int
    end_frame: int
    start_time: float
    end_time: float
    score: float
    refined: bool  # times exact to a source frame (True) or grid midpoints (False)
    region_index: int = 0  # the caption region it was found in (0: the primary crop region)


def grid_seconds(start: int, end: int, duration: float) -> tuple[float, float]:
    """10 Hz interval → seconds without decoding. A caption first seen at sample s appeared
    somewhere in ((s-1)/10, s/10]; the midpoint halves the worst-case error to 50 ms."""
    s = 0.0 if start == 0 else (start - 0.5) / 10
    e = (end - 0.5) / 10
    if duration > 0:
        e = min(e, duration)
    return round(s, 3), round(max(e, s + 0.05), 3)


def caption_extents(path, box, probs: PairProbs, duration: float, predictor,
                    windows: BoundaryWindows | None, region_index: int = 0) -> list[CaptionExtent]:
    """Decode pair probabilities into captions; with ``windows`` (frames kept in the main pass),
    refine each boundary to the source frame where it happens. A boundary whose window was
    dropped (the model was sure nothing changed there) is refined by decoding around it."""
    intervals = decode_intervals(probs)
    grid = [grid_seconds(iv.start, iv.end, duration) for iv in intervals]
    times, refined = grid, False
    if windows is not None and intervals:
        from gpu_kernels.extents.refine import refine_boundaries

        starts, ends = {iv.start for iv in intervals}, {iv.end for iv in intervals}
        points = sorted(starts | ends)
        # A fade moves a boundary with nothing on its other side; back to back, it is a change.
        kinds = {**{b: "start" for b in starts - ends}, **{b: "end" for b in ends - starts}}
        at = windows.refine(points, kinds)
        log.info("boundary windows kept: %d of %d samples, for %d boundaries (%d at a fade's edge)",
                 windows.kept, windows.count, len(points), windows.fades)
        missing = [b for b in points if at[b] is None]
        if missing:
            log.info("refining %d of %d boundaries by decoding", len(missing), len(points))
            at.update(zip(missing, refine_boundaries(path, box, missing, predictor=predictor)))
        exact = [(at[iv.start], at[iv.end]) for iv in intervals]
        # A boundary refined onto the end of the video keeps the grid's clamp.
        times = [(round(a, 4), round(min(b, duration) if duration > 0 else b, 4)) for a, b in exact]
        refined = True
    return [CaptionExtent(iv.start, iv.end, a, b if b > a else g[1], iv.score, refined, region_index)
            for iv, (a, b), g in zip(intervals, times, grid)]


_PROB_NAMES = (["frame1_index", "frame2_index", "forward_predicted_label", "forward_confidence",
                "backward_predicted_label", "backward_confidence"]
               + [f"forward_prob_{c}" for c in CLASSES] + [f"backward_prob_{c}" for c in CLASSES])


def _pair_rows(probs: PairProbs) -> list[tuple]:
    fwd, bwd = probs.forward, probs.backward
    fl, bl = fwd.argmax(1), bwd.argmax(1)
    return [
        (k, k + 1, CLASSES[fl[k]], float(fwd[k, fl[k]]), CLASSES[bl[k]], float(bwd[k, bl[k]]),
         *map(float, fwd[k]), *map(float, bwd[k]))
        for k in range(len(probs))
    ]


def _publish_predictions(storage, keys, runs, model_version, started, seconds, frame_count, device,
                         run_id) -> None:
    """Region 0's pairs go to ``pair_results`` (what a one-region reader reads), the other
    regions' to ``region_pair_results``; ``caption_extents`` holds every region's captions."""
    primary = runs[0]
    rows = _pair_rows(primary.probs)
    with new_db(EXTENTS_SCHEMA) as (conn, dbpath):
        conn.execute(
            "INSERT INTO run_metadata VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, model_version, primary.version, started.isoformat(),
             datetime.now(timezone.utc).isoformat(), len(rows), round(seconds, 3), frame_count, 10.0,
             device, *primary.region.as_tuple()))
        cols = ", ".join(_PROB_NAMES)
        conn.executemany(f"INSERT INTO pair_results ({cols}) VALUES ({','.join('?' * 16)})", rows)
        for k, run in enumerate(runs):
            conn.execute("INSERT INTO regions VALUES (?,?,?,?,?,?)",
                         (k, *run.region.as_tuple(), run.version))
            if k:
                conn.executemany(
                    f"INSERT INTO region_pair_results (region_index, {cols}) VALUES (?,{','.join('?' * 16)})",
                    [(k, *r) for r in _pair_rows(run.probs)])
            conn.executemany(
                "INSERT INTO caption_extents (start_frame_index, end_frame_index, start_time, end_time,"
                " score, refined, region_index) VALUES (?,?,?,?,?,?,?)",
                [(e.start_frame, e.end_frame, e.start_time, e.end_time, e.score, int(e.refined), k)
                 for e in run.extents])
        publish_db(conn, dbpath, storage, keys.caption_frame_extents_db)


def _columns(conn, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def load_regions(conn) -> list[tuple[int, CropRegion, int]]:
    """(region index, crop region, cropped-frames version) of every region a run cropped; a
    database written before regions existed holds region 0 only (from run_metadata)."""
    if "regions" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}:
        rows = conn.execute("SELECT region_index, crop_left, crop_top, crop_right, crop_bottom,"
                            " cropped_frames_version FROM regions ORDER BY region_index").fetchall()
        if rows:
            return [(r[0], CropRegion(*r[1:5]), r[5]) for r in rows]
    r = conn.execute("SELECT crop_left, crop_top, crop_right, crop_bottom, cropped_frames_version"
                     " FROM run_metadata").fetchone()
    return [(0, CropRegion(*r[:4]), r[4])]


def load_predictions(conn, region: int = 0) -> tuple[PairProbs, dict]:
    """Read one region's pair probabilities back from a caption_frame_extents.db connection."""
    f_cols = ", ".join(f"forward_prob_{c}" for c in CLASSES)
    b_cols = ", ".join(f"backward_prob_{c}" for c in CLASSES)
    try:
        cur = conn.execute("SELECT * FROM run_metadata")
        meta_row = cur.fetchone()
        meta = dict(zip([d[0] for d in cur.description], meta_row)) if meta_row else {}
        if region == 0:
            rows = conn.execute(f"SELECT frame1_index, {f_cols}, {b_cols} FROM pair_results"
                                " ORDER BY frame1_index").fetchall()
        else:
            rows = conn.execute(f"SELECT frame1_index, {f_cols}, {b_cols} FROM region_pair_results"
                                " WHERE region_index = ? ORDER BY frame1_index", (region,)).fetchall()
    except sqlite3.DatabaseError as e:
        raise CorruptData(f"caption_frame_extents.db has the wrong schema: {e}") from e
    arr = np.array([r[1:] for r in rows], dtype=np.float32).reshape(-1, 10)
    return PairProbs(arr[:, :5], arr[:, 5:]), meta


def load_extents(conn, region: int | None = None) -> list[CaptionExtent]:
    """The decoded captions a run stored (see :func:`caption_extents`): one region's, or every
    region's when ``region`` is None."""
    try:
        has_region = "region_index" in _columns(conn, "caption_extents")
        col = "COALESCE(region_index, 0)" if has_region else "0"
        where = "" if region is None else f" WHERE {col} = {int(region)}"
        rows = conn.execute(
            f"SELECT start_frame_index, end_frame_index, start_time, end_time, score, refined, {col}"
            f" FROM caption_extents{where} ORDER BY start_frame_index").fetchall()
    except sqlite3.DatabaseError as e:
        raise CorruptData(f"caption_frame_extents.db has the wrong schema: {e}") from e
    return [CaptionExtent(a, b, c, d, e, bool(f), g) for a, b, c, d, e, f, g in rows]
