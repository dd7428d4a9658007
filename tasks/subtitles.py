"""SRT and WebVTT writers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float
    text: str


def _check(cues: Sequence[Cue]) -> None:
    for c in cues:
        if not (c.end > c.start >= 0):
            raise ValueError(f"cue times must satisfy 0 <= start < end, got {c.start}..{c.end}")
        if not c.text.strip():
            raise ValueError("cue text is empty")


def _clean(text: str) -> str:
    # A blank line ends a cue in both formats; collapse them so text can't break the file.
    lines = [ln.strip() for ln in text.replace("\r", "").split("\n")]
    return "\n".join(ln for ln in lines if ln)


def _ts(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cues: Sequence[Cue]) -> str:
    _check(cues)
    blocks = [
        f"{i}\n{_ts(c.start, ',')} --> {_ts(c.end, ',')}\n{_clean(c.text)}\n"
        for i, c in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: Sequence[Cue]) -> str:
    _check(cues)
    # "-->" inside text would read as a timing line in WebVTT.
    blocks = [
        f"{_ts(c.start, '.')} --> {_ts(c.end, '.')}\n{_clean(c.text).replace('-->', '→')}\n"
        for c in cues
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)
