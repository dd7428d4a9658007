"""The OCR interface: an RGB image in, text boxes in pixels out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class OcrBox:
    """One detected line of text: axis-aligned box in pixels, top-left origin."""

    text: str
    confidence: float  # 0..1, as the engine reports it
    x: float
    y: float
    width: float
    height: float


class OcrEngine(ABC):
    name: str = "base"

    @abstractmethod
    def recognize(self, image: np.ndarray) -> list[OcrBox]:
        """(H, W, 3) uint8 RGB → text boxes, in reading order."""

    def recognize_batch(self, images: Sequence[np.ndarray]) -> list[list[OcrBox]]:
        """One list of boxes per image; engines with a batch API override this."""
        return [self.recognize(img) for img in images]

    def recognize_frames(self, images: Sequence[np.ndarray]) -> list[list[OcrBox]]:
        """Whole video frames (the layout pass), one list of boxes each; engines that can read
        them more cheaply than caption bands override this."""
        return self.recognize_batch(images)

    def line_detector(self) -> "Callable[[np.ndarray], list[tuple[int, int, int, int]]] | None":
        """The engine's own text-line detector for whole frames, image → (x0, y0, x1, y1) pixel
        boxes, for the language detector (:mod:`.detect`), or None (it loads its own). An engine
        may keep what it found for the frame's :meth:`recognize_frames`."""
        return None

    def close(self) -> None:
        """Release the engine's resources."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def rows_of(boxes: Sequence[OcrBox]) -> list[list[OcrBox]]:
    """Boxes grouped into lines, top to bottom: vertical centres within half a line height."""
    rows: list[list[OcrBox]] = []
    for b in sorted(boxes, key=lambda b: b.y + b.height / 2):
        cy = b.y + b.height / 2
        if rows:
            last = rows[-1]
            lcy = sum(x.y + x.height / 2 for x in last) / len(last)
            if abs(cy - lcy) <= 0.5 * max(b.height, last[0].height):
                last.append(b)
                continue
        rows.append([b])
    return rows


def row_text(row: Sequence[OcrBox]) -> str:
    """One line's boxes left to right: CJK text joins without spaces, Latin words with one."""
    line = ""
    for part in (b.text.strip() for b in sorted(row, key=lambda b: b.x)):
        if not part:
            continue
        if line and line[-1].isascii() and part[0].isascii():
            line += " "
        line += part
    return line


def join_lines(boxes: Sequence[OcrBox]) -> tuple[str, float]:
    """Boxes of one caption → (text, confidence): lines top to bottom, left to right.

    Boxes whose vertical centres lie within half a line height are one line; CJK text joins
    without spaces, Latin words with one.
    """
    if not boxes:
        return "", 0.0
    lines = [line for line in map(row_text, rows_of(boxes)) if line]
    total = sum(len(b.text) for b in boxes) or 1
    conf = sum(b.confidence * len(b.text) for b in boxes) / total
    return "\n".join(lines), float(conf)


# Tesseract's mean word confidence on the caption medians of uk_station (languages benchmark):
# 0.70-0.96, and 0.49 for one whose line box took in the scene beside it (a caption with a few
# wrong letters is worth more than a miss). Not yet measured on scene text alone.
TESSERACT_FLOOR = 0.4
# Per OCR engine, the recogniser confidence under which a caption's reading is not a caption:
# RapidOCR reads burned-in captions at 0.93-1.0 (every caption of the realworld, wild, rvo_2
# and held-aside sets) and scene text flashing through a band (sign fragments, letter blocks,
# texture) at 0.55-0.83. Engines not listed (Google Vision scores words differently) keep all.
MIN_CAPTION_CONFIDENCE = {"rapidocr": 0.85, "tesseract": TESSERACT_FLOOR}


def caption_floor(ocr_engine: str) -> float:
    """The engine's caption floor (0.0: keep every reading)."""
    return MIN_CAPTION_CONFIDENCE.get(ocr_engine, 0.0)
