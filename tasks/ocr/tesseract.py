"""Local OCR for scripts PP-OCR's shipped recogniser cannot read (Cyrillic, Hangul, Vietnamese's
tone marks): RapidOCR's detector finds the text lines (DBNet finds lines of any script),
Tesseract's LSTM recogniser reads each line with the language's model.

Models come from Debian's ``tesseract-ocr-<code>`` packages (``.ci/system-deps.sh`` installs
them); the recogniser library from the ``tesserocr`` wheel. Nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from pathlib import Path
from typing import Sequence

import numpy as np

from gpu_kernels.text import bare

from .base import OcrBox, OcrEngine
from .languages import tesseract_spec

# Where Debian, Homebrew and source builds put the models; TESSDATA_PREFIX first.
TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata", "/opt/homebrew/share/tessdata")
# Line boxes are scaled to this height (Tesseract reads text 20-40 px high best; on the languages
# benchmark 64 read Hangul better than 48, and as well as 80 and 100).
LINE_HEIGHT = 64
PAD = 10  # background added around each line: the recogniser wants margins
# A line read at under this confidence is read again with the other part taken for the text.
RETRY_CONFIDENCE = 0.6
# White text without an outline on a bright ground (a concrete floor, snow): Otsu's threshold
# falls between the dark things in the crop (legs, a wall) and the ground, and text and ground
# come out one part: the line reads empty, or only its words over the dark things, surely
# ("Επιτέλ" at 0.92). The fill is the brightest thing in its line: a caption median's line read
# under RETRY_CONFIDENCE both ways, or whose text part spans under COVERED of its box, is read
# once more as the pixels within BRIGHT_DELTA levels of its brightest (99.5th percentile),
# shaded over BRIGHT_RAMP levels; that reading, if BRIGHT_SURE, is taken when BRIGHT_MARGIN
# surer, or LONGER times as long and within BRIGHT_MARGIN of as sure (mixed2 benchmark,
# el_bright_moving: five lines read "", "Επιτέλ /" at <= 0.55 and one as garbage as long as
# the caption at 0.36 read whole at 0.80-0.91; a median read "Επιτέλ" at 0.89, its text part,
# pieces of floor among it, spanning 0.77 of the box, and whole at 0.94; the short reading can
# be the surer: 0.92 against 0.91 in test_languages). Where it is neither it is no better: a
# box over the top of a Thai caption read its piece again (mixed th_cuts, 0.84 against 0.83);
# texture read at 0.6-0.65 became captions (mixed vi_moving). A clean line's part spans about
# all of its box; a two-letter one's less (the detector's box has margins): a read more, no
# harm. Not in the layout pass, whose thresholds were measured without it (a clean Arabic line
# there read as digits at 0.72).
BRIGHT_DELTA = 20
BRIGHT_PERCENTILE = 99.5
BRIGHT_RAMP = 12
COVERED = 0.85
LONGER = 1.25
BRIGHT_SURE = 0.7
BRIGHT_MARGIN = 0.05
# Text with an outline splits at Otsu's threshold (the outline parts fill from ground), so the
# fallback is not for it: where OUTLINED of the pixels just around the brightest ones are
# OUTLINE_DARK levels darker, it is not tried (outlined Thai lines 0.72-0.89, el_bright_moving's
# lines without one 0.01-0.11). A box over the top of an outlined Thai caption read 0.32 both
# ways and its brightest pixels as a garbled copy of the caption at 0.80 (mixed th_cuts).
OUTLINED = 0.5
OUTLINE_DARK = 80
# A part of the line this enclosed by the other part is a fill inside an outline.
ENCLOSED = 0.75
# Shade levels (0-255) below the fill's at which an enclosed part is ground, not text.
SHADE_GAP = 30
# Beyond one outline's width from a part, this many px are looked at; when POCKET_SHARE of them
# are text, the part is ground caught between letters (:func:`_pockets_out`). Letters of the
# Hangul and Cyrillic lines looked at measured <= 0.41, pockets 0.52-0.78.
POCKET_BEYOND = 4
POCKET_SHARE = 0.5


RTL_MODELS = {"ara", "heb", "fas", "urd", "yid", "pus", "snd", "uig", "script/Arabic", "script/Hebrew",
              "Arabic", "Hebrew"}
BIDI_MARKS = "\u200e\u200f"  # left-to-right and right-to-left marks Tesseract puts around digits
_NO_MARKS = {ord(ch): " " for ch in BIDI_MARKS}
_STOPS = ".!?؟،,:;…"


# What a model writes that its language's captions do not: the Hebrew model adds vowel points
# and the Greek one polytonic breathings and a micro sign for mu ("לָכמַה", "᾿Επιτέλ", "σήµερα":
# mixed2 benchmark); captions use plain Hebrew and monotonic Greek.
HEBREW_POINTS = {ord(ch): None for ch in map(chr, range(0x0591, 0x05C8)) if unicodedata.combining(ch)}
GREEK_KEPT_MARKS = {"\u0301", "\u0308"}  # tonos (acute) and dialytika


def _plain_hebrew(text: str) -> str:
    return text.translate(HEBREW_POINTS)


def _monotonic_greek(text: str) -> str:
    text = text.replace("\u00b5", "\u03bc").translate({0x1FBF: None, 0x1FFE: None, 0x1FBD: None})
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch) or ch in GREEK_KEPT_MARKS)
    return unicodedata.normalize("NFC", kept)


PLAIN_SCRIPT = {"heb": _plain_hebrew, "script/Hebrew": _plain_hebrew, "Hebrew": _plain_hebrew,
                "ell": _monotonic_greek, "grc": _monotonic_greek, "script/Greek": _monotonic_greek,
                "Greek": _monotonic_greek}


def _rtl(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    rtl = sum(unicodedata.bidirectional(ch) in ("R", "AL") for ch in letters)
    return bool(letters) and rtl > len(letters) / 2


def rtl_final_stop(text: str) -> str:
    """A right-to-left line's sentence stop at its end, where reading order puts it, once:
    Tesseract gives the stop drawn at the line's left end first (".فاتتنا الحافلة بدقيقتين"),
    and read as a raw line, sometimes a second one at the end ("المحطة. .")."""
    if not text or not _rtl(text):
        return text
    stops = _STOPS + " "
    body = text.strip(stops)
    if not body:
        return text
    lead = text[: len(text) - len(text.lstrip(stops))].replace(" ", "")
    tail = text[len(text.rstrip(stops)):].replace(" ", "")
    end = tail or lead
    return body + (end[0] * 3 if end.startswith("...") else "".join(dict.fromkeys(end)))


def tessdata_dir(files: Sequence[str]) -> str | None:
    """The first directory holding every ``<name>.traineddata`` of ``files``."""
    dirs = [os.environ["TESSDATA_PREFIX"]] if os.environ.get("TESSDATA_PREFIX") else []
    for d in [*dirs, *TESSDATA_DIRS]:
        if all((Path(d) / f"{f}.traineddata").is_file() for f in files):
            return d
    return None


def _gray(image: np.ndarray) -> np.ndarray:
    im = np.asarray(image, dtype=np.float32)
    return im @ np.array([0.299, 0.587, 0.114], dtype=np.float32) if im.ndim == 3 else im


def _inner(mask: np.ndarray) -> np.ndarray:
    """``mask`` less its parts that touch the crop's edge (the ground around the line)."""
    import cv2

    _n, lab = cv2.connectedComponents(mask, connectivity=4)
    edge = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    out = mask.copy()
    out[np.isin(lab, edge[edge > 0])] = 0
    return out


def _outermost(mask: np.ndarray) -> np.ndarray:
    """``mask`` less the parts inside another part's hole: in a light fill inside a dark
    outline, the ground seen through a letter's hole (inside an "o" or a "ㅇ") is light too, and
    taken for text it fills the hole."""
    import cv2

    contours, hier = cv2.findContours(mask, cv2.RETR_TREE, cv2.CHAIN_APPROX_NONE)
    out = np.zeros_like(mask)
    if hier is None:
        return out
    hier = hier[0]
    top = [i for i in range(len(contours)) if hier[i][3] < 0]
    cv2.drawContours(out, [contours[i] for i in top], -1, 1, thickness=-1)
    holes = [i for i in range(len(contours)) if hier[i][3] >= 0 and hier[hier[i][3]][3] < 0]
    cv2.drawContours(out, [contours[i] for i in holes], -1, 0, thickness=-1)
    return out & mask


def _same_shade(mask: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``mask`` less the parts clearly darker than the text's fill (``g``: text light): ground
    seen in a pocket where two letters' outlines meet is enclosed like the fill, but is the
    ground's shade. The fill's shade is the median over the mask (its letters outweigh the
    pockets); a part is dropped when its lightest pixel is SHADE_GAP below it."""
    import cv2

    n, lab = cv2.connectedComponents(mask, connectivity=4)
    if n <= 2:
        return mask
    fill = float(np.median(g[mask > 0]))
    shade = np.zeros(n)
    np.maximum.at(shade, lab.ravel(), g.ravel())  # a part's lightest pixel: thin strokes reach the fill's shade
    dark = np.flatnonzero(shade < fill - SHADE_GAP)
    out = mask.copy()
    out[np.isin(lab, dark[dark > 0])] = 0
    return out


def _pockets_out(mask: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """``mask`` less the ground caught between letters: where an outline closes a letter's open
    side (a "ㄷ" beside its "ㅏ", a "c" beside the next letter), the ground inside is enclosed
    like a fill and, on a light ground, as light. A letter's fill has ground beyond its outline;
    such a pocket has fill there: a part is dropped when at least POCKET_SHARE of the pixels
    just beyond one outline's width from it are other parts of ``mask``. ``outline``: the
    enclosed dark parts (their median half-width gives the outline's width)."""
    import cv2

    n, lab = cv2.connectedComponents(mask, connectivity=4)
    if n <= 2 or not outline.any():
        return mask
    half = cv2.distanceTransform(outline, cv2.DIST_L2, 3)
    width = 2.0 * float(np.median(half[outline > 0]))
    out = mask.copy()
    for k in range(1, n):
        part = (lab == k).astype(np.uint8)
        ys, xs = np.nonzero(part)
        m = int(width) + POCKET_BEYOND + 1
        y0, y1, x0, x1 = max(0, ys.min() - m), ys.max() + m + 1, max(0, xs.min() - m), xs.max() + m + 1
        d = cv2.distanceTransform(1 - part[y0:y1, x0:x1], cv2.DIST_L2, 3)
        ring = (d > width + 1) & (d <= width + POCKET_BEYOND)
        if ring.any() and (mask[y0:y1, x0:x1][ring] > 0).mean() >= POCKET_SHARE:
            out[lab == k] = 0
    return out


def _enclosed(inner: np.ndarray, other: np.ndarray) -> float:
    """The share of the pixels just around ``inner`` that are ``other``'s: about 1 for a
    caption's fill inside its outline, about half for the outline (fill in, ground out)."""
    import cv2

    ring = cv2.dilate(inner, np.ones((3, 3), np.uint8)) - inner
    n = int(ring.sum())
    return float((ring & other).sum()) / n if n else 0.0


class LineImage:
    """One text line prepared for the recogniser: cut out with context, scaled so its box is
    LINE_HEIGHT tall, and split at Otsu's threshold into light and dark parts.

    Which part is the text decides the reading (a reading of an outline is hollow letters,
    read with confidence as high as the fill's). Burned-in captions are light fill in a dark
    outline, or text without outline on a plainer ground: the fill is the part enclosed by the
    other (:func:`_enclosed`); without an outline, the text is the part that covers less of the
    line (a ground is larger than the strokes on it)."""

    def __init__(self, gray: np.ndarray, box: tuple[int, int, int, int]) -> None:
        import cv2

        x0, y0, x1, y1 = box
        h = y1 - y0
        m = max(3, round(0.25 * h))
        crop = gray[max(0, y0 - m): y1 + m, max(0, x0 - m): x1 + m]
        scale = LINE_HEIGHT / max(h, 1)
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        self.g = np.clip(cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)
        left = (x0 - max(0, x0 - m)) * scale
        self.box_cols = (round(left), round(left + (x1 - x0) * scale))  # the box in the scaled crop
        self.t, light = cv2.threshold(self.g, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        self.masks = {True: light, False: 1 - light}  # light text?: that polarity's text mask
        self.inner = {k: _inner(v) for k, v in self.masks.items()}

    def light_text(self) -> bool:
        enc = {k: _enclosed(self.inner[k], self.inner[not k]) for k in (True, False)}
        for k in (True, False):
            if enc[k] >= ENCLOSED and enc[k] > enc[not k] and self.inner[k].sum() >= 0.3 * self.inner[not k].sum():
                return k
        return bool(self.masks[True].mean() <= 0.5)

    def image(self, light: bool):
        """Dark text on white: the ground outside the text painted white, the text's own
        shading kept (the recogniser binarises better than we do at stroke edges)."""
        import cv2
        from PIL import Image

        keep = self._text(light)
        g = self.g.astype(np.float32) if light else 255.0 - self.g
        text = _pockets_out(_same_shade(_outermost(keep), g), self.inner[not light])
        near = cv2.dilate(text, np.ones((3, 3), np.uint8))
        t = self.t if light else 255.0 - self.t
        ink = np.clip((g - t) * 255.0 / max(255.0 - t, 1.0), 0, 255)
        out = np.where(near > 0, 255.0 - ink, 255.0).astype(np.uint8)
        return Image.fromarray(cv2.copyMakeBorder(out, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=255))

    def _text(self, light: bool) -> np.ndarray:
        keep = self.inner[light]
        if keep.sum() < 0.02 * keep.size:  # text that touches the crop's edge: keep the whole mask
            keep = self.masks[light]
        return keep

    def covered(self, light: bool) -> float:
        """The share of the box's width that the text part (of polarity ``light``) spans."""
        a, b = self.box_cols
        cols = np.flatnonzero(self._text(light)[:, a:b].any(axis=0))
        return (cols[-1] - cols[0] + 1) / max(b - a, 1) if cols.size else 0.0

    def _bright_threshold(self) -> float:
        return float(np.percentile(self.g, BRIGHT_PERCENTILE)) - BRIGHT_DELTA

    def outlined(self) -> bool:
        """Whether the line's brightest pixels have a dark outline: OUTLINED of the pixels just
        around them OUTLINE_DARK levels darker (see BRIGHT_DELTA)."""
        import cv2

        t = self._bright_threshold()
        bright = (self.g >= t).astype(np.uint8)
        ring = cv2.dilate(bright, np.ones((5, 5), np.uint8)) > bright
        return bool(ring.any()) and float((self.g[ring] < t - OUTLINE_DARK).mean()) >= OUTLINED

    def brightest(self):
        """Dark text on white: the pixels near the line's brightest shade as the text (see
        BRIGHT_DELTA), whatever else the crop holds."""
        import cv2
        from PIL import Image

        g = self.g.astype(np.float32)
        t = self._bright_threshold()
        out = (255.0 - np.clip((g - t) / BRIGHT_RAMP, 0, 1) * 255.0).astype(np.uint8)
        return Image.fromarray(cv2.copyMakeBorder(out, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=255))


class LineDetector:
    """PP-OCR's text detector alone (RapidOCR without recognition): text lines of any script as
    (x0, y0, x1, y1) pixel boxes, the image scaled to at most ``max_side``."""

    def __init__(self, max_side: int = 736) -> None:
        from rapidocr import RapidOCR  # lazy: loads the ONNX model

        self._det = RapidOCR(params={"Det.limit_type": "max", "Det.limit_side_len": max_side,
                                     "Global.log_level": "error", "Global.use_cls": False,
                                     "Global.use_rec": False})

    def __call__(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        image = np.asarray(image)
        res = self._det(np.ascontiguousarray(image[..., ::-1]), use_det=True, use_cls=False, use_rec=False)
        return line_boxes(getattr(res, "boxes", None), image.shape)


def line_boxes(quads, shape: tuple[int, ...]) -> list[tuple[int, int, int, int]]:
    """PP-OCR's detected quads → (x0, y0, x1, y1) pixel boxes inside the image, slivers dropped."""
    if quads is None:
        return []
    h, w = shape[:2]
    out = []
    for quad in quads:
        q = np.asarray(quad, dtype=float)
        x0, y0 = max(0, int(q[:, 0].min())), max(0, int(q[:, 1].min()))
        x1, y1 = min(w, int(np.ceil(q[:, 0].max()))), min(h, int(np.ceil(q[:, 1].max())))
        if x1 - x0 >= 2 and y1 - y0 >= 4:
            out.append((x0, y0, x1, y1))
    return out


class TesseractEngine(OcrEngine):
    name = "tesseract"
    batch_size = 12

    def __init__(self, lang: str, max_side: int = 736, model: str | None = None) -> None:
        """``lang``: caption language code(s) (``ru``, ``ru,en``); ``model``: a Tesseract model
        spec used as is instead (``Cyrillic``), for script detection."""
        import tesserocr  # lazy: links libtesseract

        self.lang = lang
        self.spec = model or tesseract_spec(lang)  # UnsupportedLanguage when a model is absent
        self.max_side = max_side
        path = tessdata_dir(self.spec.split("+"))
        self._api = tesserocr.PyTessBaseAPI(path=path, lang=self.spec, psm=tesserocr.PSM.SINGLE_LINE,
                                            oem=tesserocr.OEM.LSTM_ONLY)
        self._lock = threading.Lock()  # one Tesseract instance is not safe across threads
        self._raw_fallback = bool(RTL_MODELS & set(self.spec.split("+")))
        self._plain = [PLAIN_SCRIPT[m] for m in self.spec.split("+") if m in PLAIN_SCRIPT]
        self._psm = tesserocr.PSM
        self._det = None

    def lines(self, image: np.ndarray) -> list[tuple[int, int, int, int]]:
        if self._det is None:
            self._det = LineDetector(self.max_side)
        return self._det(image)

    def line_detector(self):
        return self.lines

    def read_line(self, gray: np.ndarray, box: tuple[int, int, int, int], median: bool = False) -> tuple[str, float]:
        """One line's (text, confidence). ``median``: a caption median's line, which gets the
        fallbacks (a raw line, :meth:`read_image`; the brightest pixels, BRIGHT_DELTA)."""
        line = LineImage(gray, box)
        first = line.light_text()
        best, used = ("", 0.0), first
        for light in (first, not first):
            text, conf = self.read_image(line.image(light), median)
            if conf > best[1]:
                best, used = (text, conf), light
            if best[1] >= RETRY_CONFIDENCE:
                break
        if not median or (best[1] >= RETRY_CONFIDENCE and line.covered(used) >= COVERED) or line.outlined():
            return best
        text, conf = self.read_image(line.brightest(), median)
        longer = len(bare(text)) >= LONGER * len(bare(best[0]))
        if conf >= BRIGHT_SURE and (conf > best[1] + BRIGHT_MARGIN or longer and conf >= best[1] - BRIGHT_MARGIN):
            return text, conf
        return best

    def read_image(self, im, raw: bool = False) -> tuple[str, float]:
        """One prepared line image (PIL, dark text on white) → (text NFC, confidence 0..1).
        ``raw``: where single-line layout analysis finds no text in a right-to-left script's line,
        read the image as a raw line (caption medians only: the layout pass and the language
        detector keep their readings, which their thresholds were measured on; a raw reading's
        lower confidence trimmed the first line of two-line Arabic captions out of the band).
        Only right-to-left: in Thai, raw readings of texture ("1 ลส2ไฝไธไจไขไโเโ", 0.68) became
        captions (languages benchmark, th_station), as sure as the Arabic line's (0.68)."""
        with self._lock:
            self._api.SetImage(im)
            text = self._api.GetUTF8Text()
            conf = self._api.MeanTextConf()
            if raw and self._raw_fallback and not text.strip():
                # Single-line layout analysis finds no line in some clean lines (an Arabic
                # caption with its final stop: mixed benchmark, ar_cuts); read as a raw line
                # the same image reads at 0.68.
                self._api.SetPageSegMode(self._psm.RAW_LINE)
                try:
                    text = self._api.GetUTF8Text()
                    conf = self._api.MeanTextConf()
                finally:
                    self._api.SetPageSegMode(self._psm.SINGLE_LINE)
        text = rtl_final_stop(unicodedata.normalize("NFC", " ".join(text.translate(_NO_MARKS).split())))
        for plain in self._plain:
            text = plain(text)
        return (text, max(0.0, conf) / 100.0) if text else ("", 0.0)

    def recognize(self, image: np.ndarray) -> list[OcrBox]:
        return self._boxes(image, median=True)

    def recognize_frames(self, images: Sequence[np.ndarray]) -> list[list[OcrBox]]:
        return [self._boxes(image, median=False) for image in images]

    def _boxes(self, image: np.ndarray, median: bool) -> list[OcrBox]:
        gray = _gray(image)
        out = []
        for box in self.lines(image):
            text, conf = self.read_line(gray, box, median)
            if text:
                x0, y0, x1, y1 = box
                out.append(OcrBox(text, conf, float(x0), float(y0), float(x1 - x0), float(y1 - y0)))
        return out

    def close(self) -> None:
        api, self._api = getattr(self, "_api", None), None
        if api is not None:
            api.End()
