"""Caption languages: which local recogniser reads each, and with which model.

PP-OCR's recogniser shipped in the RapidOCR wheel reads Chinese, English and Japanese (and most
Latin text). Other scripts are read by Tesseract with the language's model from Debian's
``tesseract-ocr-<model>`` package. Codes are ISO 639-1 (``ru``), optionally several joined by
commas (``ru,en``: a Russian video with English lines).
"""

from __future__ import annotations

from gpu_kernels.errors import UnsupportedLanguage

# Read by RapidOCR's default PP-OCR recogniser (its dictionary: Chinese, kana, Latin letters with
# the European diacritics). On the languages benchmark it read es/fr/de/pl/tr/pt captions at CER
# 0.000-0.021 where Tesseract's Latin model read 0.015-0.26: Latin languages stay with it.
LATIN = frozenset({"en", "es", "fr", "de", "pt", "pl", "tr", "it", "nl", "cs", "ro", "hu", "sv", "da", "fi",
                   "no", "id", "ms", "hr", "sk", "sl"})
RAPID = frozenset({"zh", "zh-hans", "zh-hant", "zh-cn", "zh-tw", "ja"}) | LATIN

# ISO 639-1 → Tesseract model (Debian ships it as tesseract-ocr-<model>).
TESSERACT = {
    # Cyrillic
    "ru": "rus", "uk": "ukr", "bg": "bul", "be": "bel", "sr": "srp", "mk": "mkd", "kk": "kaz",
    # Hangul, Vietnamese (PP-OCR's shipped recogniser drops its tone marks), Thai
    "ko": "kor", "vi": "vie", "th": "tha",
    # Arabic and Hebrew (right to left: Tesseract returns them in reading order), Hindi, Greek
    "ar": "ara", "he": "heb", "hi": "hin", "el": "ell",
}


AUTO = "auto"  # detect the language from the video's frames (:mod:`.detect`), once per video


def codes(lang: str | None) -> list[str]:
    """``lang`` as a list of codes; [] for none and for an undecided ``auto``."""
    parts = [p.strip().lower().replace("_", "-") for p in (lang or "").split(",") if p.strip()]
    # BCP-47 with a region (ru-RU, pt-BR): the language decides; zh-TW/zh-Hant are kept whole.
    parts = [p if p in RAPID or "-" not in p else p.split("-")[0] for p in parts]
    return [] if parts == [AUTO] else parts


def engine_for(lang: str | None) -> str:
    """``rapidocr`` when PP-OCR reads every language of ``lang`` (or none is given), else
    ``tesseract``. Raises UnsupportedLanguage for a code neither reads."""
    parts = codes(lang)  # auto not yet decided: the default recogniser
    unknown = [c for c in parts if c not in RAPID and c not in TESSERACT]
    if unknown:
        raise UnsupportedLanguage(
            f"unsupported caption language {unknown[0]!r}; known: auto, "
            f"{', '.join(sorted(RAPID | set(TESSERACT)))}")
    return "rapidocr" if all(c in RAPID for c in parts) else "tesseract"


def tesseract_spec(lang: str) -> str:
    """``ru,en`` → ``rus+eng``, checking that each model is installed (else UnsupportedLanguage
    naming the Debian package)."""
    from .tesseract import tessdata_dir

    models = []
    for c in codes(lang):
        if c in RAPID and c != "en":
            raise UnsupportedLanguage(f"caption language {c!r} is read by the default recogniser, not together "
                                      f"with {lang!r}; pass --lang {c} alone")
        models.append("eng" if c == "en" else TESSERACT[c])
    missing = [m for m in models if tessdata_dir([m]) is None]
    if missing:
        pkgs = " ".join(f"tesseract-ocr-{m}" for m in missing)
        raise UnsupportedLanguage(f"no OCR model for caption language {lang!r}: install {pkgs} "
                                  f"(apt-get install {pkgs}) or set TESSDATA_PREFIX to a folder with "
                                  f"{', '.join(m + '.traineddata' for m in missing)}")
    return "+".join(dict.fromkeys(models))


def check_lang(lang: str | None) -> str:
    """Validate ``lang`` before any work: the recogniser's name, or UnsupportedLanguage."""
    engine = engine_for(lang)
    if engine == "tesseract":
        tesseract_spec(lang)
    return engine


def _cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x2E80 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0xFF66 <= o <= 0xFF9F
            or 0x20000 <= o <= 0x2FFFF)


def latin_only(lang: str | None) -> bool:
    """Whether every language named is written in Latin letters: then a reading in Han, kana or
    Hangul is scene text (a sign, a letter block read as "区"), not a caption."""
    parts = codes(lang)
    return bool(parts) and all(c in LATIN for c in parts)


def latin_reading(text: str) -> bool:
    """A reading that can be a Latin-script caption: no CJK character in it."""
    return not any(_cjk(ch) for ch in text)
