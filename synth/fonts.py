"""Find fonts on this machine: a CJK font for Chinese captions, a Latin one otherwise."""

from __future__ import annotations

import functools
import glob
import os
import subprocess

_CJK_GLOBS = [
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-*.ttc",
    "/usr/share/fonts/**/*CJK*.tt[cf]",
    "/System/Library/Fonts/PingFang.ttc",
]
_LATIN_GLOBS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/**/*.ttf",
]


class FontNotFound(RuntimeError):
    pass


def _first(globs: list[str]) -> str | None:
    for pattern in globs:
        hits = sorted(glob.glob(pattern, recursive=True))
        if hits:
            return hits[0]
    return None


@functools.lru_cache(maxsize=None)
def cjk_font() -> str:
    # A font file given by path: machines with no font packages (the GPU check's, carried there).
    path = os.environ.get("CAPTIONACC_CJK_FONT") or _first(_CJK_GLOBS)
    if path is None:
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
            files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
            path = files[0] if files else None
        except (OSError, subprocess.SubprocessError):
            path = None
    if path is None or not os.path.exists(path):
        raise FontNotFound("no CJK font found; install fonts-wqy-microhei or fonts-noto-cjk")
    return path


@functools.lru_cache(maxsize=None)
def latin_font() -> str:
    path = _first(_LATIN_GLOBS)
    if path is None:
        return cjk_font()  # CJK fonts carry Latin glyphs too
    return path


def needs_cjk(text: str) -> bool:
    return any(ord(c) > 0x2E80 for c in text)


def font_for(text: str) -> str:
    return cjk_font() if needs_cjk(text) else latin_font()
