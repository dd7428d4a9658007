"""Whole synthetic videos with hard captions and exact truth, for benchmarks and end-to-end tests.

Unlike ``sequences`` (10 Hz strips for training), these are real H.264 files at a native frame
rate (24, 25, 29.97 or 30 fps) with the caption band somewhere near the bottom of the frame, so
the whole pipeline runs on them: 10 Hz sampling, cropping, the predictor, the decoder and
native-rate refinement. Truth is written in ``../shared/score.py``'s format: a caption is
visible on frames whose presentation time lies in [start, end).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from .render import (LINE_ART, X264_DETERMINISTIC, BackgroundStream, blend, fit_text, font_pool, footage_pool,
                     render_caption, sample_style, watermark_layer)
from .sequences import caption_text


@dataclass(frozen=True)
class ClipSpec:
    width: int = 640
    height: int = 360
    fps: Fraction = Fraction(25)
    duration: float = 20.0
    band: tuple[int, int, int, int] = (0, 290, 640, 350)  # (x0, y0, x1, y1) caption band


def sample_captions(rng: np.random.Generator, duration: float, fps: Fraction) -> list[tuple[int, int, str]]:
    """Caption timeline in native frame numbers [start, end) with how each text is chosen."""
    n = int(math.floor(duration * fps))
    out: list[tuple[int, int, str]] = []
    t = int(rng.integers(0, int(fps)))
    while t < n:
        r = rng.random()
        secs = rng.uniform(0.3, 0.6) if r < 0.15 else rng.uniform(0.8, 4.0)
        dur = max(int(round(secs * fps)), 3)  # ≥ 3 frames: a caption shorter than a 10 Hz step is invisible to it
        how = "new"
        if out and out[-1][1] == t and rng.random() < 0.3:
            how = "mutate"
        elif out and out[-1][1] < t and rng.random() < 0.15:
            how = "repeat"
        out.append((t, min(n, t + dur), how))
        t += dur
        g = rng.random()
        gap_s = 0.0 if g < 0.35 else rng.uniform(0.15, 0.4) if g < 0.5 else rng.uniform(0.5, 3.0)
        t += int(round(gap_s * fps))
    return out


def make_clip(path: str, seed: int, split: str = "heldout", spec: ClipSpec | None = None,
              truth_path: str | None = None, crf: int | None = None,
              captions: list[tuple[int, int, str]] | None = None, background: str | None = None,
              deterministic: bool = False) -> dict:
    """Render and encode one clip; returns the truth dict (also written to ``truth_path``).

    ``captions`` fixes the timeline as (first frame, end frame, text) in source frame numbers;
    by default it is drawn from the seed. ``background`` forces a ``BackgroundStream`` kind.
    ``deterministic`` encodes bit-for-bit the same every run (single-threaded x264 without
    macroblock-tree, see ``render.h264_roundtrip``), as training's checkpoint selection needs.
    """
    rng = np.random.default_rng(seed)
    if spec is None:
        fps = [Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30)][int(rng.integers(4))]
        w, h = [(640, 360), (640, 360), (854, 480)][int(rng.integers(3))]
        bh = int(round(h * rng.uniform(0.13, 0.2) / 2)) * 2
        y1 = h - int(round(h * rng.uniform(0.02, 0.08) / 2)) * 2
        spec = ClipSpec(w, h, fps, 20.0, (0, y1 - bh, w, y1))
    fonts, footage = font_pool(split), footage_pool(split)
    x0, y0, x1, y1 = spec.band
    bw, bh = x1 - x0, y1 - y0
    script = str(rng.choice(["latin", "hanzi", "kana", "hangul"], p=[0.5, 0.4, 0.05, 0.05]))
    lines = 2 if rng.random() < 0.2 else 1
    if captions is not None:
        script = "hanzi" if any(ord(c) > 0x2E80 for _, _, t in captions for c in t) else "latin"
        lines = max(t.count("\n") + 1 for _, _, t in captions)
    style = sample_style(rng, fonts, bw, bh, script, lines)
    if captions is not None:
        timeline = [(s, e, "fixed") for s, e, _ in captions]
    else:
        timeline = sample_captions(rng, spec.duration, spec.fps)
    texts, layers = [], []
    for k, how in enumerate(h for _, _, h in timeline):
        if how == "fixed":
            text = fit_text(captions[k][2], style, bw)
        else:
            text = caption_text(rng, how, texts, script, lines, style, bw)
        texts.append(text)
        layers.append(render_caption(text, style, bw, bh))
    n = int(math.floor(spec.duration * spec.fps))
    on = np.full(n, -1)
    for k, (s, e, _) in enumerate(timeline):
        on[s:e] = k

    def new_background() -> BackgroundStream:
        bg = BackgroundStream(rng, spec.width, spec.height, footage, fonts, kind=background,
                              line_art=LINE_ART.get(split, 0.0))
        if hasattr(bg, "speed"):  # native frames, not 10 Hz steps: slow the footage down
            bg.speed = float(rng.uniform(0.6, 1.2))
            bg.pan = bg.pan * 0.3
        if hasattr(bg, "cel_v"):
            bg.cel_v = bg.cel_v * 0.3
        if hasattr(bg, "drift"):
            bg.drift = bg.drift * 0.3
        return bg

    bg = new_background()
    cuts = set(int(c) for c in rng.integers(0, n, int(rng.integers(0, 4)))) if captions is None else set()
    mark = watermark_layer(rng, fonts, bw, bh) if rng.random() < 0.25 else None
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with av.open(path, "w") as out:
        stream = out.add_stream("libx264", rate=spec.fps)
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.options = {"crf": str(crf if crf is not None else int(rng.integers(20, 30))),
                          "preset": "veryfast", "g": str(int(2 * spec.fps)), "bf": "2"}
        if deterministic:
            stream.options |= {"threads": "1", "x264-params": X264_DETERMINISTIC}
        for j in range(n):
            if j in cuts:
                bg = new_background()
            img = bg.next()
            band = img[y0:y1, x0:x1]
            if mark is not None:
                band = blend(band, mark)
            if on[j] >= 0:
                band = blend(band, layers[int(on[j])])
            img = img.copy()
            img[y0:y1, x0:x1] = band
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts = j
            frame.time_base = 1 / spec.fps
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)
    truth = {
        "video": os.path.basename(path), "fps": float(spec.fps), "duration": float(n / spec.fps),
        "band": list(spec.band), "seed": seed, "split": split,
        "captions": [{"start": round(float(s / spec.fps), 6), "end": round(float(e / spec.fps), 6), "text": texts[k]}
                     for k, (s, e, _) in enumerate(timeline)],
    }
    if truth_path:
        with open(truth_path, "w", encoding="utf-8") as f:
            json.dump(truth, f, ensure_ascii=False, indent=1)
    return truth
