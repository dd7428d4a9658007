"""Job 3: generate_caption_ocr — median of a caption's cropped frames, then OCR."""

from __future__ import annotations

from typing import Iterable, Iterator

from gpu_kernels.band import Band
from gpu_kernels.median import median_frame

from .chunks import ChunkReader
from .context import JobContext
from .errors import Fatal
from .keys import parse_chunks_prefix
from .ocr import join_lines
from .types import CaptionOcrResult

MEDIAN_FRAMES = 15  # enough frames for a stable median; more only costs decoding


def generate_caption_ocr(
    chunks_prefix: str,
    start_frame: int,
    end_frame: int,
    *,
    ctx: JobContext | None = None,
) -> CaptionOcrResult:
    return next(ocr_captions(chunks_prefix, [(start_frame, end_frame)], ctx=ctx))


def ocr_captions(
    chunks_prefix: str, ranges: Iterable[tuple[int, int]], *, ctx: JobContext | None = None
) -> Iterator[CaptionOcrResult]:
    """OCR many captions of one video with one chunk reader: ranges in time order share
    decoded chunks, so each chunk is read about once for the whole video. Medians go to the
    engine in batches (a cloud engine montages a batch into a few billed images)."""
    keys, version = parse_chunks_prefix(chunks_prefix)
    ctx = ctx or JobContext.from_env()
    batch_size = max(1, getattr(ctx.ocr, "batch_size", 1))
    pending: list[tuple[object, int]] = []

    def flush() -> Iterator[CaptionOcrResult]:
        results = ctx.ocr.recognize_batch([m for m, _ in pending])
        if len(results) != len(pending):
            raise Fatal(f"OCR engine returned {len(results)} results for {len(pending)} images")
        for (_, n), boxes in zip(pending, results):
            text, confidence = join_lines(boxes)
            yield CaptionOcrResult(ocr_text=text, confidence=round(confidence, 4), frame_count=n)
        pending.clear()

    with ChunkReader(ctx.storage, keys.cropped_frames(version)) as reader:
        for start, end in ranges:
            # The median runs on the chunks' YUV planes (half RGB's bytes, no per-frame
            # conversion); only the one median image becomes RGB for the OCR engine.
            _indices, frames = reader.frames(start, end, want=MEDIAN_FRAMES, fmt="yuv420p")
            med = Band(median_frame(frames, ctx.device, max_frames=MEDIAN_FRAMES), "yuv420p").rgb()
            pending.append((med, int(min(len(frames), MEDIAN_FRAMES))))
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()
