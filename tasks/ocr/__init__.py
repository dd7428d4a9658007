"""OCR engines behind one interface; ``open_ocr`` picks one by name."""

from __future__ import annotations

import os

from .base import OcrBox, OcrEngine, join_lines

__all__ = ["OcrBox", "OcrEngine", "join_lines", "open_ocr", "ENGINES"]

ENGINES = ("rapidocr", "google-vision")


def open_ocr(name: str | None = None, lang: str | None = None) -> OcrEngine:
    """``rapidocr`` (local, the default) or ``google-vision``; ``CAPTIONACC_OCR`` overrides."""
    name = (name or os.environ.get("CAPTIONACC_OCR") or "rapidocr").lower()
    if name == "rapidocr":
        from .rapid import RapidOcrEngine

        return RapidOcrEngine(lang=lang)
    if name == "google-vision":
        from .google_vision import GoogleVisionEngine

        return GoogleVisionEngine(lang=lang)
    raise ValueError(f"unknown OCR engine {name!r}; expected one of {ENGINES}")
