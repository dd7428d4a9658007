"""SRT and WebVTT writers.

Whatever the OCR read, a cue never breaks the file: text is reduced to non-blank lines (every
character some reader treats as a line break becomes one), control characters are dropped,
WebVTT text is escaped (``&``, ``<``, ``>``, so ``-->`` or ``<b>`` stay text), SRT's ``-->`` becomes ``→``, cues are written in
start order, and a cue keeps at least 1 ms after rounding to milliseconds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str
    # Where the caption sat: top of its region, fraction of the frame height. None (or a region
    # in the lower third) leaves placement to the player, which puts it at the bottom.
    line: float | None = None


# What str.splitlines() splits on besides \n and \r: readers built on it see these as breaks.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def _check(cues: Sequence[Cue]) -> None:
    for c in cues:
        if not (isinstance(c.start, (int, float)) and isinstance(c.end, (int, float))
                and math.isfinite(c.start) and math.isfinite(c.end)):
            raise ValueError(f"cue times must be finite numbers, got {c.start!r}..{c.end!r}")
        if not (c.end > c.start >= 0):
            raise ValueError(f"cue times must satisfy 0 <= start < end, got {c.start}..{c.end}")
        if not _clean(c.text):
            raise ValueError("cue text is empty")


def _clean(text: str) -> str:
    # A blank line ends a cue in both formats; collapse them so text can't break the file.
    text = _CONTROL.sub("", _LINE_BREAKS.sub("\n", text).replace("\t", " "))
    lines = [ln.strip() for ln in text.split("\n")]
    return "\n".join(ln for ln in lines if ln)


def _ms(c: Cue) -> tuple[int, int]:
    start = int(round(c.start * 1000))
    return start, max(int(round(c.end * 1000)), start + 1)  # rounding must not empty a cue


def _ts(ms: int, sep: str) -> str:
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _ordered(cues: Sequence[Cue]) -> list[tuple[int, int, str, float | None]]:
    _check(cues)
    return sorted(((*_ms(c), _clean(c.text), c.line) for c in cues), key=lambda r: r[:3])


def to_srt(cues: Sequence[Cue]) -> str:
    # SRT has no escapes; lenient readers (FFmpeg's among them) start a cue at any "-->" line.
    blocks = [
        f"{i}\n{_ts(s, ',')} --> {_ts(e, ',')}\n{text.replace('-->', '→')}\n"
        for i, (s, e, text, _line) in enumerate(_ordered(cues), 1)
    ]
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Regions whose top lies below this (fraction of the height) are the usual bottom captions.
BOTTOM_LINE = 0.66


def _vtt_settings(line: float | None) -> str:
    """WebVTT cue settings placing a caption that did not sit at the bottom where it sat
    (overlapping cues of two regions then do not cover each other)."""
    if line is None or not math.isfinite(line) or line >= BOTTOM_LINE:
        return ""
    return f" line:{max(0, min(100, round(line * 100)))}%"


def to_vtt(cues: Sequence[Cue]) -> str:
    blocks = [f"{_ts(s, '.')} --> {_ts(e, '.')}{_vtt_settings(line)}\n{_vtt_escape(text)}\n"
              for s, e, text, line in _ordered(cues)]
    return "WEBVTT\n\n" + "\n".join(blocks)
