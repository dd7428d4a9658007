"""Boundary refinement from frames kept during the main decode pass: no second decode.

:func:`gpu_kernels.video.iter_grid_windows` hands over, with each 10 Hz sample ``b``, the source
frames first shown since sample ``b-1``. They wait here (as band crops) only until the pair
predictor has read the pair ``(b-1, b)``: where both readings are sure nothing changed, the
window is dropped; elsewhere :func:`~gpu_kernels.extents.refine.change_position` picks at once
the frame where the change would be, should the sequence decoder put a boundary there. What
stays is one number per unsure sample: memory is bounded by the inference lag, not the video's
length.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Iterable, NamedTuple

import numpy as np

from .base import BACKWARD_OF, DIFFERENT, EMPTY_EMPTY, SAME, PairPredictor, PairProbs
from .fades import MAX_SHIFT_S, FadeLine, fade_line, luma, luma_at, stage, text_pixels
from .refine import change_position

KEEP_BELOW = 0.9  # keep a window unless P(no change), both readings averaged, reaches this
# (trained with label smoothing 0.03, a sure "same" reads ~0.98: the bar sits well below that)
# Fades (:mod:`.fades`): a caption appearing or going between samples b-1 and b is measured
# against the samples r before and after it for the first r of FADE_REFS at which both are read
# as unchanged from their neighbours (P ≥ FADE_SURE): 0.3 s clears a 200 ms fade, 0.5 s a 500 ms
# one. The frames of the windows within FADE_REACH samples of b are the fade's points, and the
# frame the model put the change on must lie part-way along it (FADE_SEEN: the model was trained
# to flip between opacity 0.3 and 0.6), or what ramps is the scene, not the caption.
FADE_REFS = (3, 5)
FADE_REACH = 3
FADE_SEEN = (0.1, 0.9)
FADE_SURE = 0.5
FADE_NOT_DIFFERENT = 0.5  # a pair read as one caption changing to another at least this surely: no fade


class _Fade(NamedTuple):
    """A fade measured across one boundary: its line, the reference distance (samples) it was
    measured at, and the stage of every frame it was fitted to, by frame time."""

    line: FadeLine
    ref: int
    stages: dict[float, float]


class BoundaryWindows:
    def __init__(self, predictor: PairPredictor, rate: float = 10.0, keep_below: float = KEEP_BELOW) -> None:
        self.predictor, self.keep_below = predictor, keep_below
        self.step = 1 / Fraction(rate).limit_denominator(1000)
        self._pending: dict[int, tuple[object, list]] = {}  # index → (grid band, window)
        self._kept: dict[int, float] = {}  # b → time of the first frame after the change
        self._static: set[int] = set()  # b whose sample shows the same source frame as b-1
        self._next_pair = 0  # pairs (k, k+1) for k below this are decided
        self.count = 0  # samples added
        self._recent: dict[int, tuple[object, list]] = {}  # decided samples a fade may still need
        self._pair_p: dict[int, np.ndarray] = {}  # k → class probabilities of pair (k, k+1), both readings
        self._fade_wait: set[int] = set()  # unsure b whose fade is measured once b+5 is read
        self._fade: dict[int, _Fade] = {}  # b → the fade measured across it
        self._placed = 0

    def add(self, index: int, band, window: list) -> None:
        """Sample ``index`` (consecutive from 0), its band, and its window ``[(time, band)]``."""
        if index != self.count:
            raise ValueError(f"samples must come in order: {index} after {self.count - 1}")
        self._pending[index] = (band, window)
        self.count += 1

    def observe(self, probs: PairProbs) -> None:
        """Probabilities for the next ``len(probs)`` pairs, in order."""
        fwd, bwd = probs.forward, probs.backward
        both = 0.5 * (fwd + bwd[:, BACKWARD_OF])  # each class, both readings, forward orientation
        for p in both:
            k = self._next_pair
            b = k + 1
            self._recent[k] = self._pending.pop(k)
            old, _ = self._recent[k]
            window = self._pending[b][1]
            if not window:
                self._static.add(b)
            elif p[SAME] + p[EMPTY_EMPTY] < self.keep_below:
                crops = np.stack([old.rgb()] + [w.rgb() for _, w in window])
                self._kept[b] = float(window[change_position(self.predictor, crops) - 1][0])
                if p[DIFFERENT] < FADE_NOT_DIFFERENT:
                    # The model's classes on a slow fade are weak (a 500 ms fade-in read as
                    # P(appears) 0.09): whether it starts or ends a caption is the decoder's word.
                    self._fade_wait.add(b)
            self._pair_p[k] = p
            self._next_pair += 1
            for c in [c for c in self._fade_wait if c + FADE_REFS[-1] <= b]:
                self._fade_wait.discard(c)
                self._measure_fade(c)
            self._forget(b - 2 * FADE_REFS[-1])

    def _sample(self, i: int) -> tuple[object, list] | None:
        """(band, window) of sample ``i`` while it is still held."""
        return self._recent.get(i) or self._pending.get(i)

    def _measure_fade(self, b: int) -> None:
        """The line of a fade across boundary ``b`` (:func:`.fades.fade_line`), measured against
        samples ``b ± r`` for the first ``r`` of FADE_REFS where both show one state whole."""
        ref = next((r for r in FADE_REFS if self._steady_references(b, r)), None)
        pre, post = (self._sample(b - ref), self._sample(b + ref)) if ref else (None, None)
        if pre is None or post is None:
            return
        p_y, q_y = luma(pre[0]), luma(post[0])
        idx = text_pixels(p_y, q_y)
        if idx is None:
            return
        now = self._kept[b]
        frames = [(float(t), band) for i in range(b - FADE_REACH, b + FADE_REACH + 1)
                  for t, band in (self._sample(i) or (None, []))[1]]
        # The model's own frame first: on a cut (most boundaries) it is the whole change, and
        # nothing more is read.
        seen = [stage(luma_at(band, idx), p_y, q_y, idx) for t, band in frames if t == now]
        if len(frames) < 3 or not seen or not FADE_SEEN[0] < seen[0] < FADE_SEEN[1]:
            return
        points = [(t, stage(luma_at(band, idx), p_y, q_y, idx)) for t, band in frames]
        line = fade_line(points, float(np.median(np.diff(sorted(t for t, _ in points)))))
        if line is not None:
            self._fade[b] = _Fade(line, ref, dict(points))

    def _steady_references(self, b: int, ref: int) -> bool:
        """Whether the model read no change at either reference (the pairs ``b - ref`` and
        ``b + ref - 1``), so each shows one state whole. Between them it may read anything:
        a fading caption reads as a change to another caption, and a busy band's empty frames as
        the same caption, so the pixels, not the classes, tell a fade (:func:`.fades.fade_line`)."""
        for k in (b - ref, b + ref - 1):
            p = self._pair_p.get(k)
            if p is None or p[SAME] + p[EMPTY_EMPTY] < FADE_SURE:
                return False
        return True

    def _forget(self, below: int) -> None:
        for i in [i for i in self._recent if i < below]:
            del self._recent[i]
        for k in [k for k in self._pair_p if k < below]:
            del self._pair_p[k]

    @property
    def kept(self) -> int:
        return len(self._kept)

    @property
    def fades(self) -> int:
        """Boundaries the last :meth:`refine` placed at a fade's edge, not where the model saw
        the change."""
        return self._placed

    def refine(self, boundaries: Iterable[int], kinds: dict[int, str] | None = None) -> dict[int, float | None]:
        """Seconds from the stream start for each boundary ``b`` (first sample of the new state):
        the first source frame of the new state where its window was kept; the grid time where
        nothing can be placed more exactly (``b ≤ 0``, past the last sample, same frame as
        ``b-1``); None where the window was dropped (refine those by decoding).

        ``kinds`` names the boundaries that start (``"start"``) or end (``"end"``) a caption with
        nothing on the other side: where such a boundary lies on a fade, it goes to the fade's
        first frame (start) or to the first frame after it (end)."""
        kinds = kinds or {}
        out: dict[int, float | None] = {}
        self._placed = 0
        for b in boundaries:
            if b <= 0:
                out[b] = 0.0
            elif b >= self.count or b in self._static:
                out[b] = float(b * self.step)
            elif b in self._kept:
                edge = self._fade_edge(b, kinds.get(b))
                self._placed += edge is not None
                out[b] = self._kept[b] if edge is None else edge
            else:
                out[b] = None
        return out

    def _fade_edge(self, b: int, kind: str | None) -> float | None:
        """The edge of the fade measured at ``b`` or at a neighbour in the same unsure stretch (a
        fade spans two or three samples and the decoder may put the boundary on any of them,
        while only one may have references clear of the fade; ``b``'s own frame must lie
        part-way along the neighbour's), if it lies within MAX_SHIFT_S of where the model put
        the change, on the side a fade moves it, and between the references."""
        if kind not in ("start", "end"):
            return None
        now = self._kept[b]
        for c in (b, b - 1, b + 1):
            fade = self._fade.get(c)
            if fade is None or c not in self._kept:
                continue
            if c != b and not FADE_SEEN[0] < fade.stages.get(now, -1.0) < FADE_SEEN[1]:
                continue  # this boundary's own frame is not part-way along that fade: another change
            edge = fade.line.edge(kind)
            half = fade.line.frame_s / 2
            lo, hi = (now - MAX_SHIFT_S, now + half) if kind == "start" else (now - half, now + MAX_SHIFT_S)
            lo, hi = max(lo, float((c - fade.ref) * self.step)), min(hi, float((c + fade.ref) * self.step))
            if lo <= edge <= hi:
                return edge
        return None
