"""``--lang auto``: the caption language of a video, from a few of its frames, before any OCR.

Text lines are found with PP-OCR's detector and prepared as for reading (:class:`LineImage`);
Tesseract's script detector (OSD, ``osd.traineddata``) names the script of all of them stacked
into one image. A script with one local recogniser decides the language once its script model
reads the lines in that script's letters (Hangul, Arabic, Hebrew, Devanagari, Thai, Greek);
Cyrillic and Latin are read once with a script model and told apart by their letters. The result is one recogniser for
the whole video: captions of one video share a language (a line of another, e.g. English under
Chinese, is read by the default recogniser alike).
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from gpu_kernels.errors import UnsupportedLanguage

from .tesseract import LineDetector, LineImage, TesseractEngine, _gray, tessdata_dir

log = logging.getLogger(__name__)

MAX_LINES = 40  # enough text for OSD; more only costs time
# Lines whose centres lie within this share of the frame's height (each from the one before)
# are one region; a region needs this many lines (a caption band recurs across frames). The
# widest region (by all its lines' widths) is checked on its own (:func:`_by_region`).
GROUP_SPAN = 0.04
MIN_GROUP_LINES = 2
# Scripts whose region gets a verdict of its own where the whole got the default recogniser
# (Latin and Han are the default's; a region OSD names nothing is scene text more often).
OWN_SCRIPTS = {"Cyrillic", "Hangul", "Korean"}
GROUP_LINES = 4  # the widest lines of a region OSD is shown: enough for a script, cheaper
CHECK_LINES = 12  # the widest lines, read with the Hangul model to confirm or rule out Korean
# Letters only one Cyrillic language of the three uses (Ukrainian і ї є ґ; Russian ы э ё),
# and those Vietnamese adds to Latin (ơ ư đ and vowels with a dot below or hook above).
UKRAINIAN = set("іїєґ")
RUSSIAN = set("ыэё")
VIETNAMESE = set("ơưđăạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
# Of the letters the Vietnamese model reads: 0.17-0.20 on Vietnamese captions, up to 0.047 on
# Spanish and Turkish ones (their accents read as Vietnamese vowels).
VIETNAMESE_SHARE = 0.1
# OSD's script names → the language that script's captions are read as.
SCRIPTS = {"Cyrillic": "cyrillic", "Latin": "latin", "Vietnamese": "latin"}
# OSD tells Hangul from Han and kana poorly on a few caption lines (it named two of three Korean
# clips Japanese): every other verdict is checked by reading the lines with the Hangul model.
# Its mean confidence was 0.47-0.67 on Korean captions, 0.14-0.19 on Chinese and Japanese.
HANGUL_CONFIDENCE = 0.4
# ... and most of the letters a script model reads must be that script's (the models read Latin
# too: "HELLO 42" on a 160x90 frame was named Thai by OSD and read with confidence as Latin).
SCRIPT_SHARE = 0.5
# Only lines a script model reads with this confidence count as evidence, and a script other
# than the default recogniser's needs this many letters of it. Caption lines in Cyrillic and
# Vietnamese gave 92-240 such letters (languages benchmark); dark text in a white outline over a
# black grid, read as hollow letters, gave 5 (hard benchmark, dark_text_blocks): OSD named it
# Cyrillic and the Cyrillic model read garbage at 0.2-0.4, which made the whole video Bulgarian.
READ_CONFIDENCE = 0.5
MIN_LETTERS = 20

# Greek letters whose capitals look Latin: the Greek model reads "HELLO" as "ΗΕΙΙΟ" at 0.84, so
# only the others count as Greek. They were 28-45 % of the letters of each Greek caption line.
GREEK_LOOKALIKES = set("αβεζηικμνορτυχ")
GREEK_SHARE = 0.2


def _is_greek(ch: str) -> bool:
    return ("\u0370" <= ch <= "\u03ff" or "\u1f00" <= ch <= "\u1fff") and ch not in GREEK_LOOKALIKES


# Scripts read as one language: OSD's name → (script model, language, the script's letters, the
# share of the letters read that must be the script's).
ONE_LANGUAGE = {
    "Arabic": ("Arabic", "ar", lambda ch: "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f"
               or "\ufb50" <= ch <= "\ufdff" or "\ufe70" <= ch <= "\ufeff", SCRIPT_SHARE),
    "Hebrew": ("Hebrew", "he", lambda ch: "\u0590" <= ch <= "\u05ff" or "\ufb1d" <= ch <= "\ufb4f", SCRIPT_SHARE),
    "Devanagari": ("Devanagari", "hi", lambda ch: "\u0900" <= ch <= "\u097f", SCRIPT_SHARE),
    "Thai": ("Thai", "th", lambda ch: "\u0e00" <= ch <= "\u0e7f", SCRIPT_SHARE),
    "Greek": ("Greek", "el", _is_greek, GREEK_SHARE),
}


def _montage(images: Sequence) -> "object":
    from PIL import Image

    width = max(im.width for im in images)
    out = Image.new("L", (width, sum(im.height for im in images)), 255)
    y = 0
    for im in images:
        out.paste(im, (0, y))
        y += im.height
    return out


def _found(frames: Sequence[np.ndarray], detector: LineDetector) -> list[tuple]:
    """Every text line of ``frames``: (width, vertical centre as a share of the frame's height,
    grey frame, box)."""
    found = []
    for frame in frames:
        gray = _gray(frame)
        for box in detector(frame):
            found.append((box[2] - box[0], (box[1] + box[3]) / 2 / max(1, gray.shape[0]), gray, box))
    return found


def _prepared(found: Sequence[tuple], cache: dict | None = None) -> list:
    """The widest lines first (captions are wider than most scene text), at most MAX_LINES,
    prepared for reading (each once: ``cache`` keeps them by line)."""
    cache = {} if cache is None else cache
    out = []
    for f in sorted(found, key=lambda f: -f[0])[:MAX_LINES]:
        if id(f) not in cache:
            line = LineImage(f[2], f[3])
            cache[id(f)] = line.image(line.light_text())
        out.append(cache[id(f)])
    return out


def line_images(frames: Sequence[np.ndarray], detector: LineDetector) -> list:
    """Every text line of ``frames``, prepared for reading; the widest first, at most MAX_LINES."""
    return _prepared(_found(frames, detector))


def _position_groups(found: Sequence[tuple]) -> list[list[tuple]]:
    """Lines grouped by height in the frame (centres within GROUP_SPAN of the next), groups of
    MIN_GROUP_LINES or more, the widest in all first: a title at the top, the captions at the
    bottom, a sign at mid height."""
    groups: list[list[tuple]] = []
    for f in sorted(found, key=lambda f: f[1]):
        if groups and f[1] - groups[-1][-1][1] <= GROUP_SPAN:
            groups[-1].append(f)
        else:
            groups.append([f])
    groups = [g for g in groups if len(g) >= MIN_GROUP_LINES]
    return sorted(groups, key=lambda g: -sum(f[0] for f in g))


class _Osd:
    """Tesseract's script detector, loaded once for every stack of lines it is shown."""

    def __init__(self) -> None:
        self.api = None

    def __call__(self, lines: Sequence) -> str | None:
        """OSD's script name for the lines stacked, or None (no OSD model, or no verdict)."""
        import tesserocr

        path = tessdata_dir(["osd"])
        if path is None or not lines:
            return None
        if self.api is None:
            self.api = tesserocr.PyTessBaseAPI(path=path, lang="osd", psm=tesserocr.PSM.OSD_ONLY)
        self.api.SetImage(_montage(lines))
        return (self.api.DetectOrientationScript() or {}).get("script_name")

    def close(self) -> None:
        if self.api is not None:
            self.api.End()
            self.api = None


PACKAGES = {"Cyrillic": "tesseract-ocr-script-cyrl", "Vietnamese": "tesseract-ocr-script-viet",
            "Hangul": "tesseract-ocr-script-hang", "Arabic": "tesseract-ocr-script-arab",
            "Hebrew": "tesseract-ocr-script-hebr", "Devanagari": "tesseract-ocr-script-deva",
            "Thai": "tesseract-ocr-script-thai", "Greek": "tesseract-ocr-script-grek"}


def _read(lines: Sequence, model: str) -> list[tuple[str, float]]:
    if tessdata_dir([model]) is None:
        raise UnsupportedLanguage(f"--lang auto needs the {model} script model: install {PACKAGES[model]} "
                                  f"(or pass --lang)")
    engine = TesseractEngine("", model=model)
    try:
        return [engine.read_image(im) for im in lines]
    finally:
        engine.close()


def _letters(lines: Sequence, model: str) -> str:
    """The letters of the lines ``model`` reads with confidence (``READ_CONFIDENCE``)."""
    return "".join(ch for text, conf in _read(lines, model) if conf >= READ_CONFIDENCE
                   for ch in text.lower() if ch.isalpha())


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7af" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f"


def _share(letters: str, test) -> float:
    return sum(map(test, letters)) / len(letters) if letters else 0.0


def language_of_letters(script: str, letters: str) -> str:
    """Within a script, the language its letters show: uk/ru/bg for Cyrillic, vi or the default
    ("") for Latin."""
    if script == "cyrillic":
        uk, ru = (sum(ch in letters_of for ch in letters) for letters_of in (UKRAINIAN, RUSSIAN))
        if uk >= 2 and uk > 2 * ru:  # a misread і in Russian text is rarer than its ы and э
            return "uk"
        return "ru" if ru >= 1 or len(letters) < MIN_LETTERS else "bg"
    viet = sum(ch in VIETNAMESE for ch in letters)
    return "vi" if letters and viet >= max(2, VIETNAMESE_SHARE * len(letters)) else ""


def _other_script(lines: Sequence, script: str | None) -> str:
    """OSD's verdict among :data:`ONE_LANGUAGE` confirmed by its script model; else (OSD said
    nothing, or its model disagreed) the first other script whose model reads the widest lines
    in its own letters. On two caption lines OSD named Hebrew "Thai" and Arabic nothing."""
    if script in ONE_LANGUAGE and (lang := _one_language(lines, *ONE_LANGUAGE[script], warn=True)):
        return lang
    for other, spec in ONE_LANGUAGE.items():
        if other != script and (lang := _one_language(lines[:CHECK_LINES], *spec)):
            return lang
    return ""


def _one_language(lines: Sequence, model: str, lang: str, is_letter, share: float, warn: bool = False) -> str:
    """``lang`` if ``model`` reads enough of the lines in its script's letters, else "". OSD
    names scripts wrongly on a few lines ("HELLO 42" was Thai), so a missing script model only
    skips the check (the verdict may be wrong: the video must not fail on it)."""
    from .tesseract import tessdata_dir

    if tessdata_dir([model]) is None:
        if warn:
            log.warning("OSD read the captions as %s script; install %s to check (and read) them", model,
                        PACKAGES[model])
        return ""
    letters = _letters(lines, model)
    return lang if len(letters) >= MIN_LETTERS and _share(letters, is_letter) >= share else ""


def _verdict(lines: Sequence, script: str | None) -> str:
    """The language of ``lines`` given OSD's ``script`` for them ("" for the default recogniser)."""
    family = SCRIPTS.get(script or "")
    if family == "cyrillic":
        letters = _letters(lines, "Cyrillic")
        # The script models read Latin too: Cyrillic only if most letters read are Cyrillic.
        if len(letters) >= MIN_LETTERS and _share(letters, _is_cyrillic) >= SCRIPT_SHARE:
            return language_of_letters(family, letters)
        # Not Cyrillic after all: OSD named Korean captions Cyrillic (mixed3 benchmark,
        # ko_watermark_vertical: 0 of 7 read), so the other scripts are checked as for no verdict.
        script = None
    elif family == "latin":
        letters = _letters(lines, "Vietnamese")
        return language_of_letters(family, letters) if len(letters) >= MIN_LETTERS else ""
    lang = _other_script(lines, script) if lines and (script in ONE_LANGUAGE or script is None) else ""
    if not lang:  # Han, kana, Hangul, or a script verdict no model confirmed
        reads = _read(lines[:CHECK_LINES], "Hangul") if lines else []
        letters = "".join(ch for text, _ in reads for ch in text if ch.isalpha())
        korean = (reads and np.mean([c for _, c in reads]) >= HANGUL_CONFIDENCE
                  and _share(letters, _is_hangul) >= SCRIPT_SHARE)
        lang = "ko" if korean else ""
    return lang


def _by_region(lang: str, script: str | None, found: Sequence[tuple], osd: _Osd, cache: dict) -> str:
    """``lang`` (the verdict on every line at once), or where that is the default recogniser's,
    the verdict on the widest region if OSD names that region's lines another script. Stacked,
    the lines of an English title over Russian captions read as Latin to OSD, and the captions
    went to a recogniser that cannot read them (mixed benchmark, ru_title: 0 of 7 read).

    English is not added to a script model where a region reads Latin (``ru,en``): that read
    the titles above right, but most Latin regions are the scene's, and ``uk,en`` read station
    signs as captions and "того" as "Toro" (languages benchmark, uk_station)."""
    groups = _position_groups(found)
    if lang or len(groups) < 2:
        return lang
    lines = _prepared(groups[0], cache)
    own = osd(lines[:GROUP_LINES])
    if own != script and (own in ONE_LANGUAGE or own in OWN_SCRIPTS):
        return _verdict(lines, own)
    return lang


def detect_language(frames: Sequence[np.ndarray], detector: LineDetector | None = None) -> str:
    """The caption language of ``frames`` as a ``--lang`` code, or "" for the default
    recogniser (Chinese, Japanese, English and other Latin, or no text found)."""
    found = _found(frames, detector or LineDetector())
    cache: dict = {}
    lines = _prepared(found, cache)
    osd = _Osd()
    try:
        script = osd(lines)
        lang = _by_region(_verdict(lines, script), script, found, osd, cache)
    finally:
        osd.close()
    log.info("caption language: %s (script %s over %d lines)", lang or "default", script, len(lines))
    return lang
