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
from typing import Iterable

import numpy as np

from .base import EMPTY_EMPTY, SAME, PairPredictor, PairProbs
from .refine import change_position

KEEP_BELOW = 0.9  # keep a window unless P(no change), both readings averaged, reaches this
# (trained with label smoothing 0.03, a sure "same" reads ~0.98: the bar sits well below that)


class BoundaryWindows:
    def __init__(self, predictor: PairPredictor, rate: float = 10.0, keep_below: float = KEEP_BELOW) -> None:
        self.predictor, self.keep_below = predictor, keep_below
        self.step = 1 / Fraction(rate).limit_denominator(1000)
        self._pending: dict[int, tuple[object, list]] = {}  # index → (grid band, window)
        self._kept: dict[int, float] = {}  # b → time of the first frame after the change
        self._static: set[int] = set()  # b whose sample shows the same source frame as b-1
        self._next_pair = 0  # pairs (k, k+1) for k below this are decided
        self.count = 0  # samples added

    def add(self, index: int, band, window: list) -> None:
        """Sample ``index`` (consecutive from 0), its band, and its window ``[(time, band)]``."""
        if index != self.count:
            raise ValueError(f"samples must come in order: {index} after {self.count - 1}")
        self._pending[index] = (band, window)
        self.count += 1

    def observe(self, probs: PairProbs) -> None:
        """Probabilities for the next ``len(probs)`` pairs, in order."""
        fwd, bwd = probs.forward, probs.backward
        stay = 0.5 * (fwd[:, SAME] + fwd[:, EMPTY_EMPTY] + bwd[:, SAME] + bwd[:, EMPTY_EMPTY])
        for s in stay:
            k = self._next_pair
            b = k + 1
            old, _ = self._pending.pop(k)
            window = self._pending[b][1]
            if not window:
                self._static.add(b)
            elif s < self.keep_below:
                crops = np.stack([old.rgb()] + [w.rgb() for _, w in window])
                self._kept[b] = float(window[change_position(self.predictor, crops) - 1][0])
            self._next_pair += 1

    @property
    def kept(self) -> int:
        return len(self._kept)

    def refine(self, boundaries: Iterable[int]) -> dict[int, float | None]:
        """Seconds from the stream start for each boundary ``b`` (first sample of the new state):
        the first source frame of the new state where its window was kept; the grid time where
        nothing can be placed more exactly (``b ≤ 0``, past the last sample, same frame as
        ``b-1``); None where the window was dropped (refine those by decoding)."""
        out: dict[int, float | None] = {}
        for b in boundaries:
            if b <= 0:
                out[b] = 0.0
            elif b >= self.count or b in self._static:
                out[b] = float(b * self.step)
            elif b in self._kept:
                out[b] = self._kept[b]
            else:
                out[b] = None
        return out
