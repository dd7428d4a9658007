"""Timed caption sequences at 10 Hz: what the model sees in production, with known labels.

A sequence is T consecutive 10 Hz crops of one caption band plus, per frame, the id of the
caption on screen (-1 for none). Pair labels follow from the ids, so any two frames of a
sequence make a labelled pair. The timelines deliberately over-sample what peer tools get
wrong: captions of 1-3 frames, back-to-back captions with no gap, the same text shown again
after a gap, a one-character change, scene cuts and watermarks under a static caption.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gpu_kernels.extents.base import DIFFERENT, EMPTY_EMPTY, EMPTY_VALID, SAME, VALID_EMPTY

from .render import (LINE_ART, BackgroundStream, CaptionStyle, blend, compress, fit_text, font_pool, footage_pool,
                     random_text, mutate_text, render_caption, sample_style, watermark_layer)


@dataclass
class Sequence:
    frames: np.ndarray  # (T, H, W, 3) uint8, after codec artefacts
    ids: np.ndarray  # (T,) int, caption id on screen, -1 for none
    texts: list[str]  # texts[id]


def pair_label(a: int, b: int) -> int:
    """Label of (frame with caption id a, frame with caption id b); -1 means empty."""
    if a < 0 and b < 0:
        return EMPTY_EMPTY
    if a < 0:
        return EMPTY_VALID
    if b < 0:
        return VALID_EMPTY
    return SAME if a == b else DIFFERENT


def pair_labels(ids: np.ndarray) -> np.ndarray:
    """(T,) caption ids → (T-1,) labels of consecutive pairs."""
    return np.array([pair_label(int(a), int(b)) for a, b in zip(ids[:-1], ids[1:])], dtype=np.int64)


def ensure_contrast(style: CaptionStyle, background_luma: float) -> CaptionStyle:
    """A bare caption (no outline, shadow or box) whose fill is as light or dark as the scene
    would be invisible, and labelling it 'caption' would only teach noise: give it an outline,
    as real subtitles on such scenes have."""
    if style.outline or style.shadow or style.box:
        return style
    fill = 0.299 * style.fill[0] + 0.587 * style.fill[1] + 0.114 * style.fill[2]
    if abs(fill - background_luma) >= 70:
        return style
    dark = (0, 0, 0) if fill > 128 else (255, 255, 255)
    return replace(style, outline=max(1, style.size // 12), outline_color=dark)


def caption_text(rng: np.random.Generator, how: str, texts: list[str], script: str, lines: int,
                 style: CaptionStyle, width: int) -> str:
    """Text of the next caption (``how`` as :func:`sample_timeline` says) after ``texts``, fitted
    to ``width``; a one-character change that fitting undid is made again."""
    if how == "mutate" and texts:
        text = mutate_text(rng, texts[-1], script)
    elif how == "repeat" and texts:
        text = texts[-1]
    else:
        text = random_text(rng, script, lines)
    text = fit_text(text, style, width)
    if how == "mutate" and texts and text == texts[-1]:
        text = fit_text(mutate_text(rng, text, script), style, width)
    return text


def sample_timeline(rng: np.random.Generator, n: int) -> list[tuple[int, int, str]]:
    """Caption segments ``(start, end, how)`` over n frames; ``how`` says how its text is chosen:
    ``new``, ``mutate`` (previous text, one character changed, back-to-back) or ``repeat``
    (previous text again after a gap)."""
    segs: list[tuple[int, int, str]] = []
    t = 0 if rng.random() < 0.45 else int(rng.integers(1, 8))  # a caption may be on at frame 0
    while t < n:
        r = rng.random()
        dur = int(rng.integers(1, 4)) if r < 0.22 else int(rng.integers(4, 21))
        how = "new"
        if segs and segs[-1][1] == t:  # back to back with the previous caption
            if rng.random() < 0.5:  # a one-character change is the hardest 'different'
                how = "mutate"
        elif segs and rng.random() < 0.15:
            how = "repeat"
        segs.append((t, min(n, t + dur), how))
        t += dur
        g = rng.random()
        t += 0 if g < 0.45 else int(rng.integers(1, 3)) if g < 0.6 else int(rng.integers(3, 15))
    return segs


def make_sequence(seed: int, split: str = "train", length: int = 16,
                  size: tuple[int, int] | None = None) -> Sequence:
    """Render one sequence; ``size`` = (width, height) of the band, random when None."""
    rng = np.random.default_rng(seed)
    fonts = font_pool(split)
    footage = footage_pool(split)
    if size is None:
        w = int(rng.integers(160, 401)) * 2
        h = max(24, int(round(w / rng.uniform(4.0, 14.0) / 2)) * 2)
    else:
        w, h = size
    script = str(rng.choice(["latin", "hanzi", "kana", "hangul"], p=[0.5, 0.38, 0.06, 0.06]))
    lines = 2 if rng.random() < 0.22 else 1
    segs = sample_timeline(rng, length)

    # Backgrounds first: a caption style must stay readable on them (see ensure_contrast).
    bg = BackgroundStream(rng, w, h, footage, fonts, line_art=LINE_ART.get(split, 0.0))
    cut = int(rng.integers(1, length)) if rng.random() < 0.3 else -1
    backgrounds = []
    for t in range(length):
        if t == cut:
            bg = BackgroundStream(rng, w, h, footage, fonts, line_art=LINE_ART.get(split, 0.0))
        backgrounds.append(bg.next())
    lum = float(np.mean(np.stack(backgrounds)[:, h // 4 : 3 * h // 4] @ np.array([0.299, 0.587, 0.114])))
    style = ensure_contrast(sample_style(rng, fonts, w, h, script, lines), lum)

    # Caption layers, one per segment.
    texts: list[str] = []
    layers: list[np.ndarray] = []
    for k, (_, _, how) in enumerate(segs):
        if k and rng.random() < 0.12:  # occasionally a caption in another style (signs, speakers)
            style = ensure_contrast(sample_style(rng, fonts, w, h, script, lines), lum)
        text = caption_text(rng, how, texts, script, lines, style, w)
        texts.append(text)
        layers.append(render_caption(text, style, w, h))

    ids = np.full(length, -1, dtype=np.int64)
    alpha = np.ones(length, dtype=np.float32)
    for k, (s, e, _) in enumerate(segs):
        ids[s:e] = k
    if rng.random() < 0.15:  # fades: a faint frame (α ≤ 0.3, labelled empty) next to the caption
        for k, (s, e, _) in enumerate(segs):
            for t in (s - 1, e):
                if 0 <= t < length and ids[t] < 0:
                    ids[t] = -2 - k  # faint ghost of caption k: drawn, but labelled empty
                    alpha[t] = rng.uniform(0.1, 0.3)

    mark = watermark_layer(rng, fonts, w, h) if rng.random() < 0.2 else None
    frames = []
    for t in range(length):
        img = backgrounds[t]
        if mark is not None:
            img = blend(img, mark)
        k = int(ids[t])
        if k >= 0:
            img = blend(img, layers[k], float(alpha[t]))
        elif k <= -2:
            img = blend(img, layers[-2 - k], float(alpha[t]))
        frames.append(img)
    ids[ids <= -2] = -1
    out = compress(np.stack(frames), rng)
    return Sequence(out, ids, texts)
