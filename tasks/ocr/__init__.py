"""OCR engines behind one interface; ``open_ocr`` picks one by name."""

from __future__ import annotations

import os

from .base import MIN_CAPTION_CONFIDENCE, TESSERACT_FLOOR, OcrBox, OcrEngine, caption_floor, join_lines

__all__ = ["OcrBox", "OcrEngine", "join_lines", "caption_floor", "MIN_CAPTION_CONFIDENCE",
           "TESSERACT_FLOOR", "open_ocr", "ENGINES"]

ENGINES = ("rapidocr", "google-vision")


def open_ocr(name: str | None = None, lang: str | None = None) -> OcrEngine:
    """``rapidocr`` (local, the default) or ``google-vision``; ``CAPTIONACC_OCR`` overrides.

    Locally, the caption language picks the recogniser (:mod:`.languages`): PP-OCR for Chinese,
    Japanese and Latin languages (and no ``lang``), Tesseract with the language's model for
    Cyrillic, Korean and Vietnamese. An unknown language, or one whose model is not
    installed, raises UnsupportedLanguage (a BadInput naming the package to install)."""
    name = (name or os.environ.get("CAPTIONACC_OCR") or "rapidocr").lower()
    if name == "rapidocr":
        from .languages import engine_for

        if engine_for(lang) == "tesseract":
            from .tesseract import TesseractEngine

            return TesseractEngine(lang)
        from .rapid import RapidOcrEngine

        return RapidOcrEngine(lang=lang)
    if name == "google-vision":
        from .google_vision import GoogleVisionEngine

        return GoogleVisionEngine(lang=lang)
    raise ValueError(f"unknown OCR engine {name!r}; expected one of {ENGINES}")
