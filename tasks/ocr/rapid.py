"""Local OCR on RapidOCR (PP-OCR models shipped in the wheel; offline; Chinese + English)."""

from __future__ import annotations

import contextlib
import copy
import hashlib
import logging
import threading
from collections import OrderedDict
from typing import Sequence

import numpy as np

from .base import OcrBox, OcrEngine
from .languages import latin_only, latin_reading
from .montage import Layout, VisionLimits, plan_layouts

# Black rows between montaged images: keeps a line of one caption from joining the next's.
SEPARATOR = 24
# Caption bands are at least this many times wider than tall; full frames are not.
BAND_ASPECT = 3.0
# A band whose montage tile comes back empty is read again alone, and a line of that read is
# kept only if it looks like a caption of the batch (one region's captions share a text size,
# which the band's scene text rarely has): recogniser confidence at least REREAD_SCORE
# (RapidOCR keeps lines from 0.5; texture read as text, or a thin band read whole as one line,
# comes out at 0.5-0.7, captions at 0.88-1.0) and a height within REREAD_HEIGHT times a
# caption line's: the median height of the batch's montage lines of that confidence, or, with
# fewer than REREAD_REFERENCE of them, the band's height / BAND_LINES (the layout step makes a
# band 1.8 lines tall for a one-line caption; a taller band makes the reread keep less).
REREAD_SCORE = 0.8
REREAD_HEIGHT = (0.65, 1.5)
REREAD_REFERENCE = 2
BAND_LINES = 1.8
# The detector's longer side for whole frames (the layout pass): see recognize_frames.
FRAME_SIDE = 608


def _passive_ort_threads() -> None:
    """Make RapidOCR's ONNX Runtime sessions wait for work asleep, not spinning. ORT's intra-op
    threads spin between operators by default; here they share the cores with the video decoder,
    the JPEG and VP9 encoders and torch, and their spinning took them: ``captionacc run`` on the
    1-min 720p bench clip used 17 % less CPU and 9 % less wall time without it (4 runs each,
    alternated). Applies to sessions made after the call; RapidOCR exposes no option for it."""
    from rapidocr.inference_engine.onnxruntime import main as ort_main

    cls = ort_main.OrtInferSession
    if getattr(cls, "_captionacc_passive", False):
        return
    make_opts = cls._init_sess_opts

    def passive_opts(cfg):
        opts = make_opts(cfg)
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return opts

    cls._init_sess_opts = staticmethod(passive_opts)
    cls._captionacc_passive = True


class RapidOcrEngine(OcrEngine):
    name = "rapidocr"
    #: Caption medians per recognize_batch: 1280×188 bands stack ~6 to a square montage.
    batch_size = 12

    def __init__(self, max_side: int = 736, band_side: int = 512, lang: str | None = None,
                 frame_side: int | None = None) -> None:
        # PP-OCR's default recogniser reads Chinese, Japanese and Latin together. A named Latin
        # language (``fr``) drops readings with CJK characters in them: scene text.
        self.lang = lang
        self._latin = latin_only(lang)
        self.max_side, self.band_side = max_side, band_side
        self.frame_side = frame_side or FRAME_SIDE
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # "empty result" is not a warning for us
        self._engine = self._load(max_side)
        self._band_engine = None
        self._frame_engine = None
        #: Bands read again alone because their montage tile came back empty (running count).
        self.reread = 0

    def _load(self, side: int):
        from rapidocr import RapidOCR  # lazy: loads ONNX models

        _passive_ort_threads()
        # Without a max-side limit RapidOCR upscales thin caption strips and runs ~10x slower;
        # burned-in captions are upright, so the text-direction classifier is wasted work.
        engine = RapidOCR(params={"Det.limit_type": "max", "Det.limit_side_len": side,
                                  "Global.log_level": "error", "Global.use_cls": False})
        first = getattr(self, "_engine", None)
        if first is not None:
            # One recogniser for every detector scale (frames, bands, montages): each RapidOCR
            # would otherwise load its own copy of the same model (~70 MB resident each).
            engine.text_rec = first._load_rec_model()
        return engine

    def recognize_batch(self, images: Sequence[np.ndarray]) -> list[list[OcrBox]]:
        """Caption bands are stacked into montages no taller than they are wide and detected at
        ``band_side`` on their longer side: the detector runs once per ~6 captions and the
        recogniser gets more lines per batch (2-3x less time per caption), and caption-sized
        text at this scale is found while small scene text and watermarks in the band mostly
        are not (CER 0.052 → 0.027 on the held-aside set, 0.032 → 0.003 on the bench clip, against
        one detector pass per caption at 736 px).

        A band whose tile comes back empty is read again alone (:meth:`recognize`). Short
        text (a two-character caption) over a busy background scores near the detector's
        threshold, and what surrounds the band decides it: in a montage the black separators and
        the neighbours tip it under, at every scale up to 1:1, where the band alone passes
        (douyin_3's 起来, 过分, 太过分), and the other way round for other bands, so no detector
        scale fixes it. A lone read also finds text the montage rightly passed over (a sign,
        texture), so of a reread only the lines that look like the batch's captions are kept
        (``REREAD_SCORE``, ``REREAD_HEIGHT``). Tiles the montage read stay as they were. Each
        empty tile costs one :meth:`recognize`: caption medians almost always hold text (none of
        the 115 of the 5-min bench clip is reread); the extent check's probes of caption-free
        stretches are the bulk of it (+5% OCR time over the realistic clips).
        Recognition reads the full-resolution pixels either way. Other images (full frames)
        are read one by one at ``max_side``. Each box goes back to the image it lies in."""
        shapes = [np.asarray(im).shape[:2] for im in images]
        if not shapes or not all(w >= BAND_ASPECT * h for h, w in shapes):
            return [self.recognize(im) for im in images]
        if self._band_engine is None:
            self._band_engine = self._load(self.band_side)
        side = max(self.max_side, max(w for _, w in shapes))
        out: list[list[OcrBox]] = [[] for _ in images]
        for layout in plan_layouts(shapes, VisionLimits(max_side=side), SEPARATOR):
            for i, boxes in self._montage(layout, images).items():
                out[i] = boxes
        missed = [i for i, boxes in enumerate(out) if not boxes]
        heights = [b.height for boxes in out for b in boxes if b.confidence >= REREAD_SCORE]
        batch_line = float(np.median(heights)) if len(heights) >= REREAD_REFERENCE else None
        for i in missed:
            self.reread += 1
            line = batch_line or shapes[i][0] / BAND_LINES
            lo, hi = REREAD_HEIGHT[0] * line, REREAD_HEIGHT[1] * line
            out[i] = [b for b in self.recognize(images[i])
                      if b.confidence >= REREAD_SCORE and lo <= b.height <= hi]
        return out

    def _montage(self, layout: Layout, images: Sequence[np.ndarray]) -> dict[int, list[OcrBox]]:
        boxes = self._run(self._band_engine, layout.render(images))
        per: dict[int, list[OcrBox]] = {t.index: [] for t in layout.tiles}
        if not boxes:
            return per
        pos, local = layout.assign(np.array([[b.x, b.y, b.x + b.width, b.y + b.height] for b in boxes]))
        for b, p, (x0, y0, x1, y1) in zip(boxes, pos, local):
            per[layout.tiles[p].index].append(
                OcrBox(b.text, b.confidence, float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
        return per

    def recognize_frames(self, images: Sequence[np.ndarray]) -> list[list[OcrBox]]:
        """Whole frames for the layout pass, detected at ``frame_side``: the detector is ~85% of
        a frame's OCR time at 736 px and scales with the pixels it is given, while the layout
        only needs caption-sized lines found (recognition reads the full-resolution pixels).
        A frame :meth:`frame_lines` detected is read with that detection instead."""
        frames = self._frames_engine()
        kept = self._kept()
        return [self._run(self._engine if kept.holds(self._bgr(im)) else frames, im) for im in images]

    def line_detector(self):
        return self.frame_lines

    def frame_lines(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        """Text lines of a whole frame at ``max_side`` (the language detector's scale: white
        text without an outline on a white table, bg_cups, is found at 736 px and not at 608),
        kept for that frame's :meth:`recognize_frames`: the language detector looks at frames
        the layout pass reads next, and their detection was a fifth of a 1-min clip's extract."""
        from .tesseract import line_boxes

        kept = self._kept()
        with kept.keeping():
            res = self._engine(self._bgr(image), use_det=True, use_cls=False, use_rec=False)
        return line_boxes(getattr(res, "boxes", None), np.asarray(image).shape)

    @staticmethod
    def _bgr(image: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(image)[..., ::-1])  # RapidOCR expects OpenCV's BGR

    def _kept(self) -> "_KeptDetections":
        if not isinstance(self._engine.text_det, _KeptDetections):
            self._engine.text_det = _KeptDetections(self._engine._load_det_model())
        return self._engine.text_det

    def _frames_engine(self):
        if self.frame_side == self.max_side:
            return self._engine
        if self._frame_engine is None:
            self._frame_engine = self._load(self.frame_side)
        return self._frame_engine

    def recognize(self, image: np.ndarray) -> list[OcrBox]:
        return self._run(self._engine, image)

    def _run(self, engine, image: np.ndarray) -> list[OcrBox]:
        boxes = self._read(engine, image)
        if self._latin:
            boxes = [b for b in boxes if latin_reading(b.text)]
        return boxes

    @staticmethod
    def _read(engine, image: np.ndarray) -> list[OcrBox]:
        # The steps named every time: RapidOCR keeps a call's use_* flags for later calls, and
        # frame_lines detects without reading.
        result = engine(RapidOcrEngine._bgr(image), use_det=True, use_cls=False, use_rec=True)
        if result is None or result.boxes is None or result.txts is None:
            return []
        out = []
        for quad, text, score in zip(result.boxes, result.txts, result.scores):
            q = np.asarray(quad, dtype=float)
            x0, y0 = q[:, 0].min(), q[:, 1].min()
            x1, y1 = q[:, 0].max(), q[:, 1].max()
            out.append(OcrBox(str(text), float(score), float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
        return out


class _KeptDetections:
    """RapidOCR's text detector (``RapidOCR.text_det``), wrapped: a detection made inside
    :meth:`keeping` is kept, by the pixels detected, and given back instead of detecting those
    pixels again (once; at most ``capacity`` are kept, the oldest dropped first). The same
    detection gives the same crops and readings: only the time is saved."""

    def __init__(self, detector, capacity: int = 16) -> None:
        self._detector = detector
        self._kept: OrderedDict[bytes, object] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextlib.contextmanager
    def keeping(self):
        self._local.keep = True
        try:
            yield
        finally:
            self._local.keep = False

    @staticmethod
    def _key(img: np.ndarray) -> bytes:
        img = np.ascontiguousarray(img)
        h = hashlib.blake2b(repr((img.shape, img.dtype.str)).encode(), digest_size=16)
        h.update(memoryview(img).cast("B"))
        return h.digest()

    def holds(self, img: np.ndarray) -> bool:
        """Whether a detection of these pixels is kept."""
        if not self._kept:
            return False
        key = self._key(img)
        with self._lock:
            return key in self._kept

    def __call__(self, img):
        keep = getattr(self._local, "keep", False)
        if not keep and not self._kept:
            return self._detector(img)
        key = self._key(img)
        with self._lock:
            kept = self._kept.get(key) if keep else self._kept.pop(key, None)
        if kept is not None:
            return copy.deepcopy(kept)  # RapidOCR rewrites the output's boxes in place
        out = self._detector(img)
        if keep:
            with self._lock:
                self._kept[key] = copy.deepcopy(out)
                while len(self._kept) > self._capacity:
                    self._kept.popitem(last=False)
        return out

    def __getattr__(self, name):  # RapidOCR's update_params reaches into the detector
        return getattr(self._detector, name)
