"""Local OCR on RapidOCR (PP-OCR models shipped in the wheel; offline; Chinese + English)."""

from __future__ import annotations

import logging

import numpy as np

from .base import OcrBox, OcrEngine


class RapidOcrEngine(OcrEngine):
    name = "rapidocr"

    def __init__(self, max_side: int = 736, lang: str | None = None) -> None:
        from rapidocr import RapidOCR  # lazy: loads ONNX models

        # PP-OCR's default recogniser reads Chinese and English together; ``lang`` is accepted
        # for interface parity with cloud engines.
        self.lang = lang
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # "empty result" is not a warning for us
        # Without a max-side limit RapidOCR upscales thin caption strips and runs ~10x slower;
        # burned-in captions are upright, so the text-direction classifier is wasted work.
        self._engine = RapidOCR(
            params={"Det.limit_type": "max", "Det.limit_side_len": max_side, "Global.log_level": "error",
                    "Global.use_cls": False}
        )

    def recognize(self, image: np.ndarray) -> list[OcrBox]:
        # RapidOCR expects BGR like OpenCV; our frames are RGB.
        result = self._engine(np.ascontiguousarray(image[..., ::-1]))
        if result is None or result.boxes is None or result.txts is None:
            return []
        out = []
        for quad, text, score in zip(result.boxes, result.txts, result.scores):
            q = np.asarray(quad, dtype=float)
            x0, y0 = q[:, 0].min(), q[:, 1].min()
            x1, y1 = q[:, 0].max(), q[:, 1].max()
            out.append(OcrBox(str(text), float(score), float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
        return out
