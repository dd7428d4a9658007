"""Job 3: generate_caption_ocr — median of a caption's cropped frames, then OCR."""

from __future__ import annotations

from gpu_kernels.median import median_frame

from .chunks import read_frames
from .context import JobContext
from .keys import parse_chunks_prefix
from .ocr import join_lines
from .types import CaptionOcrResult

MEDIAN_FRAMES = 31  # enough frames for a stable median; more only costs decoding


def generate_caption_ocr(
    chunks_prefix: str,
    start_frame: int,
    end_frame: int,
    *,
    ctx: JobContext | None = None,
) -> CaptionOcrResult:
    keys, version = parse_chunks_prefix(chunks_prefix)
    prefix = keys.cropped_frames(version)
    ctx = ctx or JobContext.from_env()
    _indices, frames = read_frames(ctx.storage, prefix, start_frame, end_frame, want=MEDIAN_FRAMES)
    med = median_frame(frames, ctx.device, max_frames=MEDIAN_FRAMES)
    text, confidence = join_lines(ctx.ocr.recognize(med))
    return CaptionOcrResult(ocr_text=text, confidence=round(confidence, 4),
                            frame_count=int(min(len(frames), MEDIAN_FRAMES)))
