"""Where a fade begins (a caption fading in) or ends (fading out), from the band's pixels.

The pair model was trained to call a frame drawn at opacity ≤ 0.3 empty and one at ≥ 0.6 a
caption, so on a fade it places the boundary part-way through: a 200 ms ``\\fad`` in starts
2-3 frames late and ends ~1 frame early, while a caption's time is its cue's, from the first
frame the fade draws. Opacity is linear in time (ASS ``\\fad``, editors' cross-dissolves), so
it is measured on the frames near the boundary and the line is followed to 0:

    β(f) = median over text pixels p of (f_p − P_p) / (Q_p − P_p)

with ``P`` a sample before the change and ``Q`` one after (for a fade-in: background, then the
whole caption; for a fade-out the other way round), text pixels being those where ``Q`` and
``P`` differ by at least ``MIN_CONTRAST`` in luma. β goes 0 → 1 across the change: in one step
for a cut, along a line for a fade. The median keeps a moving background from deciding. Pixels
do not all move alike (libass lays the faded fill over the faded outline, so a fill pixel lags
an outline pixel mid-fade; the encoder blurs faint text), but their median follows the fade's
line closely enough: only a change whose stages lie on a line of a fade's slope, rising through
every frame, is taken for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

MIN_CONTRAST = 48  # luma levels between the two references for a pixel to count as text
MIN_PIXELS = 200  # fewer text pixels than this: nothing to measure
# Stages inside a change where a fade's line is read: its first three quarters. Past them the
# stages creep towards 1 (a moving background has drifted from the far reference by then; the
# composited fill lags), and a line through them overshot a fade-out's end by 0.1 s.
RAMP = (0.08, 0.75)
MIN_FADE_S, MAX_FADE_S = 0.08, 1.0  # slopes outside this are no fade (a cut, or slow motion)
MAX_RESIDUAL = 0.12  # a ramp point farther than this from the fitted line: not a linear fade
# Every frame, ramp or not, within this of the line held to [0, 1]: a background drifting a
# little before a cut draws a gentle "ramp" of two frames that the jump after it belies.
MAX_OFF_LINE = 0.2
# No frame may rise more than this many times the fade's own step per frame: a caption cut in
# over a background that was already changing (a passer-by in the band) draws a ramp, then
# jumps where the caption appears.
# Measured: fades 1.0-1.6 times their step (35 placed in the redraw suites: 1.01-1.44), cuts
# over a changing scene 2.4-3.2, and 1.95 for a cut whose panning scene drifted on after it.
MAX_JUMP = 1.75
MAX_SHIFT_S = 0.3  # never move a boundary further than this


def luma(band) -> np.ndarray:
    """The band's luma plane, (h, w) float32 (a :class:`~gpu_kernels.band.Band`, an RGB array,
    or a luma plane already)."""
    data = getattr(band, "data", band)
    fmt = getattr(band, "fmt", "rgb24")
    if data.ndim == 2 and fmt == "rgb24":
        return np.asarray(data, np.float32)
    if fmt != "rgb24":
        return data[: data.shape[0] * 2 // 3].astype(np.float32)
    rgb = np.asarray(data, np.float32)
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def text_pixels(pre: np.ndarray, post: np.ndarray) -> np.ndarray | None:
    """Indices of the pixels the change alters, or None when too few to measure."""
    diff = post - pre
    idx = np.flatnonzero(np.abs(diff) >= MIN_CONTRAST)
    return idx if idx.size >= MIN_PIXELS else None


def luma_at(band, idx: np.ndarray) -> np.ndarray:
    """The band's luma at flat pixel indices ``idx``, float32: read straight from the Y plane of
    a YUV band (no whole-band conversion: a 10-min video measures thousands of frames)."""
    data = getattr(band, "data", band)
    if getattr(band, "fmt", "rgb24") != "rgb24":
        return data.reshape(-1)[idx].astype(np.float32)  # the Y plane is the first h rows
    return luma(band).reshape(-1)[idx]


def stage(frame: np.ndarray, pre: np.ndarray, post: np.ndarray, idx: np.ndarray) -> float:
    """β: how far ``frame`` has come from ``pre`` to ``post`` on the pixels ``idx`` (``frame``
    holds those pixels' values, :func:`luma_at`; ``pre`` and ``post`` are whole luma planes)."""
    p, q = pre.reshape(-1)[idx], post.reshape(-1)[idx]
    return float(np.median((frame - p) / (q - p)))


@dataclass(frozen=True)
class FadeLine:
    """β = slope·(t − t0) + at_t0 along a change's ramp (times in seconds)."""

    t0: float
    slope: float
    at_t0: float
    frame_s: float  # the source's frame duration there

    def edge(self, kind: str) -> float:
        """Where the fade begins (``kind="start"``: β leaves 0) or ends (``"end"``: β reaches 1),
        to the nearest source frame."""
        target = 0.0 if kind == "start" else 1.0
        return self.t0 + round((target - self.at_t0) / self.slope / self.frame_s) * self.frame_s


def fade_line(points: Sequence[tuple[float, float]], frame_s: float) -> FadeLine | None:
    """The line of a fade through ``(time, β)`` of the frames around a change; None when they
    show no linear fade (a cut, motion, a fade too quick or too slow)."""
    pts = sorted(points)
    if len(pts) < 3 or frame_s <= 0 or np.any(np.diff([b for _, b in pts]) < -MAX_RESIDUAL):
        return None  # not rising throughout: motion or noise, not one change
    ramp = [(t, b) for t, b in pts if RAMP[0] < b < RAMP[1]]
    if len(ramp) < 2:
        return None  # a cut: at most one frame caught part-way
    ref = ramp[0][0]
    t = np.array([p[0] - ref for p in ramp])  # relative: the fit stays well conditioned late in a video
    b = np.array([p[1] for p in ramp])
    if np.ptp(t) <= 0:
        return None
    slope, icpt = np.polyfit(t, b, 1)
    if slope <= 0 or not MIN_FADE_S <= 1 / slope <= MAX_FADE_S:
        return None
    if np.abs(b - (slope * t + icpt)).max() > MAX_RESIDUAL:
        return None
    every = np.array([[p[0] - ref, p[1]] for p in pts])
    if np.abs(every[:, 1] - np.clip(slope * every[:, 0] + icpt, 0, 1)).max() > MAX_OFF_LINE:
        return None
    per_frame = np.diff(every[:, 1]) / np.maximum(1.0, np.diff(every[:, 0]) / frame_s)
    if per_frame.max() > MAX_JUMP * slope * frame_s:
        return None
    return FadeLine(float(ref), float(slope), float(icpt), float(frame_s))
