"""Job 3: generate_caption_ocr — median of a caption's cropped frames, then OCR.

Only the caption is read. Text the band also shows without any caption, just before and just
after this one (a URL on a test card, a sign, a channel logo), is the scene's: it is masked out
of the median before OCR (:func:`gpu_kernels.textmask.suppress_scene_text`).
"""

from __future__ import annotations

import bisect
import logging
from collections import OrderedDict
from typing import Iterable, Iterator, Sequence

import numpy as np

from gpu_kernels.band import Band
from gpu_kernels.extents.base import EMPTY_EMPTY
from gpu_kernels.median import evenly, median_frame
from gpu_kernels.presence import presence
from gpu_kernels.stream import threaded
from gpu_kernels.text import bare
from gpu_kernels.textmask import suppress_scene_text

from .caption_language import settle_language
from .chunks import ChunkReader, check_range
from .context import JobContext
from .errors import CorruptData, Fatal, InvalidFrameRange, MissingObject
from .keys import parse_chunks_prefix
from .ocr import caption_floor, join_lines
from .ocr.base import row_text, rows_of
from .scene_text import load_scene_texts, without_scene_text
from .types import CaptionOcrBatchResult, CaptionOcrResult

log = logging.getLogger(__name__)

MEDIAN_FRAMES = 15  # enough frames for a stable median; more only costs decoding

# The band without captions on each side of a caption: the median of the REFERENCE_FRAMES
# nearest 10 Hz frames on or beside no caption of the call (one frame of slack around every
# caption: a boundary one frame off still leaves them caption-free), up to REFERENCE_REACH
# frames away. A caption inside a run of back-to-back captions is so compared with the band
# before and after the whole run: characters it shares with its neighbours stay its own.
REFERENCE_FRAMES = 3
BOUNDARY_SLACK = 1
REFERENCE_REACH = 150
# A call with one range (a job for one caption) knows of no other caption: there a side counts
# only if the extents model reads its frames as showing none (mean P(empty_empty) of its pairs).
CAPTION_FREE = 0.5
# When the near stretches would take (nearly) all the text of a span, they may show the caption
# itself (extents that missed it there by more than the slack): the text is taken for the
# scene's only if it is also there about a second further out.
ERASED = 0.1  # kept fraction of the median's strong edges (its text) at or below which it runs
FAR_OFFSET = 10  # frames between a near stretch and the far one
FAR_KEPT = 0.5  # kept fraction against the far stretches above which the text is the caption's


def generate_caption_ocr(
    chunks_prefix: str,
    start_frame: int,
    end_frame: int,
    *,
    ctx: JobContext | None = None,
) -> CaptionOcrResult:
    return next(ocr_captions(chunks_prefix, [(start_frame, end_frame)], ctx=ctx))


# At most this many captions in one batch job (the flows send 64: workers.flows
# CAPTIONS_PER_BATCH): ~60 s on a CPU worker at ~0.15 s a caption, well within the job's time
# limit, and a failed batch stays cheap to retry.
MAX_BATCH = 400


def generate_caption_ocr_batch(
    chunks_prefix: str,
    ranges: Sequence[Sequence[int]],
    known: Sequence[Sequence[int]] | None = None,
    *,
    ctx: JobContext | None = None,
) -> CaptionOcrBatchResult:
    """Many captions of one video in one job: the result for each of ``ranges`` ([start, end)
    10 Hz frames), in their order, as :func:`generate_caption_ocr` gives for one. Chunks are
    read about once for the whole batch, not once per caption.

    ``known``: the ranges of the video's other captions near the batch (read by other batches),
    which the caption-free references beside each caption must avoid, as they do the batch's own:
    a batch reads its captions as ``captionacc run`` reads them all at once."""
    spans = _ranges(ranges, "ranges")
    if not spans:
        raise InvalidFrameRange("ranges is empty: nothing to read")
    if len(spans) > MAX_BATCH:
        raise InvalidFrameRange(f"{len(spans)} ranges in one batch; at most {MAX_BATCH}")
    results = list(ocr_captions(chunks_prefix, spans, ctx=ctx, known=_ranges(known or [], "known")))
    return CaptionOcrBatchResult(captions=results)


def _ranges(value, what: str) -> list[tuple[int, int]]:
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple)):
        raise InvalidFrameRange(f"{what} must be a list of [start_frame, end_frame] pairs, got {type(value).__name__}")
    for r in value:
        if not isinstance(r, (list, tuple)) or len(r) != 2:
            raise InvalidFrameRange(f"{what}: each range must be [start_frame, end_frame], got {r!r}")
        check_range(r[0], r[1], 1 << 62)  # integers, start < end; the video's length: when read
    return [(r[0], r[1]) for r in value]


class _Captions:
    """The call's captions: which frames are on or within the slack of one."""

    def __init__(self, ranges: list[tuple[int, int]], frame_count: int) -> None:
        spans = sorted(ranges)
        self.starts = [s for s, _ in spans]
        self.reach: list[int] = []  # running max of the ends, spans sorted by start
        for _, e in spans:
            self.reach.append(max(e, self.reach[-1]) if self.reach else e)
        self.frame_count = frame_count

    def busy(self, f: int) -> bool:
        k = bisect.bisect_right(self.starts, f + BOUNDARY_SLACK)  # spans starting ≤ f + slack
        return k > 0 and self.reach[k - 1] + BOUNDARY_SLACK > f

    def stretch(self, origin: int, step: int) -> tuple[int, ...]:
        """The first REFERENCE_FRAMES caption-free frames met going from ``origin`` in
        direction ``step`` (±1), across short gaps between captions if need be, within reach;
        () if none."""
        out: list[int] = []
        for k in range(REFERENCE_REACH):
            f = origin + step * k
            if not 0 <= f < self.frame_count:
                break
            if not self.busy(f):
                out.append(f)
                if len(out) == REFERENCE_FRAMES:
                    break
        return tuple(sorted(out))


def _runs(frames: tuple[int, ...]) -> list[tuple[int, int]]:
    """Sorted frame indices → [start, end) runs of consecutive ones."""
    runs: list[tuple[int, int]] = []
    for f in frames:
        if runs and runs[-1][1] == f:
            runs[-1] = (runs[-1][0], f + 1)
        else:
            runs.append((f, f + 1))
    return runs


def _caption_free(sides: list[np.ndarray | None], ctx: JobContext) -> list[bool]:
    """Whether the extents model reads each side's frames as showing no caption."""
    frames: list[np.ndarray] = []
    pairs: list[tuple[int, int] | None] = []
    for side in sides:
        if side is None:
            pairs.append(None)
            continue
        rgb = [Band(f, "yuv420p").rgb() for f in side]
        rgb = rgb * 2 if len(rgb) == 1 else rgb  # one frame: the pair of it with itself
        pairs.append((len(frames), len(frames) + len(rgb) - 1))  # its pairs (k, k+1)
        frames.extend(rgb)
    if not frames:
        return [False] * len(sides)
    probs = ctx.predictor.predict(np.stack(frames))
    empty = 0.5 * (probs.forward[:, EMPTY_EMPTY] + probs.backward[:, EMPTY_EMPTY])
    return [p is not None and float(empty[p[0] : p[1]].mean()) >= CAPTION_FREE for p in pairs]


def confident_lines(boxes: list, floor: float) -> list:
    """The lines read at ``floor`` or above, when there is one: a line under the caption floor
    beside a line above it is the scene's (a sign's pieces misread in a mid-frame band: 七大新
    at 0.55 beside its caption read at 0.99), and averaged into the caption it took the whole
    caption under the floor, where the merge drops it. With no line at the floor all stay, for
    the merge to judge."""
    sure = [b for b in boxes if b.confidence >= floor]
    return sure if sure else list(boxes)


# Beside a caption line of at least MAIN_MIN_CHARS, a line of at most STRAY_MAX_CHARS or one
# STRAY_HEIGHT times taller than it is the scene's, caught in the median where a caption spans
# cuts between shots (a letter block "回", block letters "AM T" three times a caption's height,
# a sign's "下北"): the caption-free frames around it show other shots, so the masking cannot
# see it. A two-line caption's lines are both sentences; a bilingual one's are drawn at font
# sizes 1.5-1.55x apart (hard suites, bilingual_sizes).
MAIN_MIN_CHARS = 4
STRAY_MAX_CHARS = 2
STRAY_HEIGHT = 2.0
# A line cut by the band's top or bottom edge is bigger than the band: at EDGE_HEIGHT times the
# main line's height or more it is the scene's (block letters read 1.74-1.81x a caption's line
# height, cut by the band's top; bilingual captions' lines are 1.2-1.55x apart, inside it).
EDGE_HEIGHT = 1.5
EDGE_PX = 2


def without_stray_lines(boxes: list, band_height: int | None = None) -> list:
    """``boxes`` less the lines that are no part of the caption beside its main line (the line
    with the most letters): see ``STRAY_HEIGHT`` and ``EDGE_HEIGHT``."""
    rows = rows_of(boxes)
    if len(rows) < 2:
        return boxes
    sizes = [len(bare(row_text(r))) for r in rows]
    main = max(range(len(rows)), key=lambda k: sizes[k])
    if sizes[main] < MAIN_MIN_CHARS:
        return boxes
    line_h = float(np.median([b.height for b in rows[main]]))

    def caption_line(k: int) -> bool:
        h = float(np.median([b.height for b in rows[k]]))
        cut = band_height is not None and any(b.y <= EDGE_PX or b.y + b.height >= band_height - EDGE_PX
                                              for b in rows[k])
        return sizes[k] > STRAY_MAX_CHARS and h <= STRAY_HEIGHT * line_h and not (cut and h >= EDGE_HEIGHT * line_h)

    return [b for k, r in enumerate(rows) if k == main or caption_line(k) for b in r]


# A line of a reading of two or more that under ABSENT of the span's frames show, where the
# best line is shown on PRESENT of them or more, is the median's artefact, not the caption's:
# across cuts between dark and bright shots the median's middle value is whatever a few frames
# put there (cuts3 fast_cuts_vertical: the previous caption, on 5 of a span's 26 frames, read at
# 0.39 beside the span's own at 0.75; the benchmarks' caption lines read 0.8-1.0, a letter
# block or sign caught in a median 0.3-0.6). Judged on the frames' luma at half resolution, and
# only on spans of ABSENT_MIN_FRAMES or more: a median of fewer is each frame's to sway.
ABSENT = 0.5
PRESENT = 0.7
ABSENT_MIN_FRAMES = 6
PRESENCE_STRIDE = 2


def without_absent_lines(boxes: list, frames_y: np.ndarray | None, median_y: np.ndarray | None) -> list:
    """``boxes`` less the lines too few of the span's frames show (see ``ABSENT``).
    ``frames_y``/``median_y``: the span's luma planes and their median, every
    PRESENCE_STRIDE-th pixel; None: nothing is judged."""
    rows = rows_of(boxes)
    if len(rows) < 2 or frames_y is None or median_y is None or len(frames_y) < ABSENT_MIN_FRAMES:
        return boxes
    k = PRESENCE_STRIDE
    shown = [float(np.mean([presence(frames_y, median_y, b.x / k, b.y / k, b.width / k, b.height / k)
                            for b in r])) for r in rows]
    if max(shown) < PRESENT:
        return boxes
    return [b for r, p in zip(rows, shown) if p >= ABSENT for b in r]


def ocr_captions(
    chunks_prefix: str, ranges: Iterable[tuple[int, int]], *, ctx: JobContext | None = None,
    scene: Sequence[str] | None = None, known: Sequence[tuple[int, int]] = (),
) -> Iterator[CaptionOcrResult]:
    """OCR many captions of one video with one chunk reader: ranges in time order share
    decoded chunks, so each chunk is read about once for the whole video. Medians go to the
    engine in batches (a cloud engine montages a batch into a few billed images).

    The ranges of one call are the video's captions as far as the call knows: the band without
    captions, which tells scene text from the caption, is looked for outside all of them.
    ``scene``: the layout's scene texts (:mod:`.scene_text`), whose readings never enter a
    caption's text; None: read from the video's layout.db (none if it has no such table).
    ``known``: more captions of the video, not read here but kept out of those references."""
    keys, version = parse_chunks_prefix(chunks_prefix)
    ctx = ctx or JobContext.from_env()
    settle_language(ctx, keys.layout_db)  # --lang auto: the extract job's verdict
    ranges = list(ranges)
    if scene is None:
        scene = load_scene_texts(ctx.storage, keys.layout_db)
    known = list(known)
    alone = len(ranges) + len(known) == 1  # a job for one caption: nothing known of those around it
    batch_size = max(1, getattr(ctx.ocr, "batch_size", 1))
    floor = caption_floor(ctx.ocr.name)
    pending: list[tuple[object, int, np.ndarray | None, np.ndarray | None]] = []

    def flush() -> Iterator[CaptionOcrResult]:
        results = ctx.ocr.recognize_batch([item[0] for item in pending])
        if len(results) != len(pending):
            raise Fatal(f"OCR engine returned {len(results)} results for {len(pending)} images")
        for (image, n, frames_y, median_y), boxes in zip(pending, results):
            lines = without_absent_lines(confident_lines(without_scene_text(boxes, scene), floor),
                                         frames_y, median_y)
            text, confidence = join_lines(without_stray_lines(lines, np.asarray(image).shape[0]))
            yield CaptionOcrResult(ocr_text=text, confidence=round(confidence, 4), frame_count=n)
        pending.clear()

    with ChunkReader(ctx.storage, keys.cropped_frames(version)) as reader:
        captions = _Captions(ranges + known, reader.frame_count)
        states: OrderedDict[tuple[int, ...], np.ndarray | None] = OrderedDict()  # stretch → median

        def state(stretch: tuple[int, ...]) -> np.ndarray | None:
            """Median of a stretch's YUV planes (once per stretch: a run of back-to-back
            captions shares the stretches around it)."""
            if not stretch:
                return None
            if stretch not in states:
                try:
                    frames = np.concatenate([reader.frames(a, b, want=b - a, fmt="yuv420p")[1]
                                             for a, b in _runs(stretch)])
                except (MissingObject, CorruptData) as e:
                    # A reference only sharpens the reading; a damaged neighbouring chunk must
                    # not fail a caption whose own frames read (those errors stay typed).
                    log.warning("no caption-free reference from frames %s: %s", stretch[:1], e)
                    states[stretch] = None
                    return None
                if alone and not _caption_free([frames], ctx)[0]:
                    states[stretch] = None
                else:
                    states[stretch] = median_frame(frames, ctx.device, max_frames=REFERENCE_FRAMES)
                while len(states) > 8:
                    states.popitem(last=False)
            return states[stretch]

        def stretches(start: int, end: int, offset: int = 0) -> list[tuple[int, ...]]:
            before = captions.stretch(start - 1 - offset, -1)
            after = captions.stretch(end + offset, +1)
            return [before, after]

        def prepared() -> Iterator[tuple[np.ndarray, int, np.ndarray, np.ndarray]]:
            for start, end in ranges:
                yield _masked_median(start, end)

        def _masked_median(start: int, end: int) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
            # The median runs on the chunks' YUV planes (half RGB's bytes, no per-frame
            # conversion); only the one median image becomes RGB for the OCR engine.
            _indices, frames = reader.frames(start, end, want=MEDIAN_FRAMES, fmt="yuv420p")
            frames = evenly(frames, MEDIAN_FRAMES)
            med = median_frame(frames, ctx.device, max_frames=MEDIAN_FRAMES)
            near = stretches(start, end)
            masked = suppress_scene_text(med, [state(s) for s in near])
            if masked.ink and masked.kept_ink_fraction <= ERASED:
                far = [state(s) for s in stretches((near[0] or (start,))[0], (near[1] or (end - 1,))[-1] + 1,
                                                   FAR_OFFSET)]
                # Most of the text not there further out either: the caption's, seen in the
                # near frames too. Then only what every stretch shows goes.
                if any(r is not None for r in far) and suppress_scene_text(med, far).kept_ink_fraction > FAR_KEPT:
                    masked = suppress_scene_text(med, [state(s) for s in near] + far)
            # The median's frames' luma at half resolution, kept for without_absent_lines: ~1/6
            # of the frames' bytes.
            luma = med.shape[0] * 2 // 3
            k = PRESENCE_STRIDE
            return (Band(masked.image, "yuv420p").rgb(), len(frames),
                    np.ascontiguousarray(frames[:, :luma:k, ::k]), np.ascontiguousarray(med[:luma:k, ::k]))

        # Chunk decoding and the medians (one core) run ahead in a thread while the OCR engine
        # reads the previous batch: caption OCR kept 1.5 of 2 cores busy when they took turns.
        for item in threaded(prepared(), maxsize=2 * batch_size, name="caption-medians"):
            pending.append(item)
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()
