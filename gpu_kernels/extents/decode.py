"""Pair probabilities → caption intervals, by Viterbi over per-frame states.

Each frame is empty (E) or shows a caption (V). Every pair label is a transition:
E→E empty_empty, E→V empty_valid, V→E valid_empty, V→V same (or different: a new caption
starts). Forward and backward predictions vote together; a penalty on every change keeps one
noisy pair from splitting or inventing a caption.

The caption state also counts its age (1, 2, 3+ frames) so that ending a caption after one or
two frames costs extra (``short_penalty``): real captions last at least ~0.3 s, while a
momentary false "different" or "empty" makes exactly such fragments. A clearly predicted short
caption still survives; a caption cut by either end of the clip is never penalised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import BACKWARD_OF, DIFFERENT, EMPTY_EMPTY, EMPTY_VALID, SAME, VALID_EMPTY, PairProbs


@dataclass(frozen=True)
class Interval:
    """Caption on 10 Hz frame indices [start, end)."""

    start: int
    end: int
    score: float  # mean log-probability of the decoded labels inside, higher is surer


def pair_log_scores(probs: PairProbs) -> np.ndarray:
    """(P, 5) log-scores in forward orientation, averaging forward and backward."""
    eps = 1e-6
    fwd = np.log(np.clip(probs.forward, eps, 1.0))
    bwd = np.log(np.clip(probs.backward, eps, 1.0))[:, BACKWARD_OF]
    return 0.5 * (fwd + bwd)


# States: 0 = empty, 1..3 = caption on screen for 1, 2, 3+ frames.
_E, _AGES = 0, 3


def decode_intervals(
    probs: PairProbs,
    first_index: int = 0,
    change_penalty: float = 1.0,
    short_penalty: tuple[float, float] = (1.5, 0.5),
) -> list[Interval]:
    """Decode the most likely caption intervals for frames first_index … first_index+P.

    ``change_penalty`` is paid by every caption start and end; ``short_penalty[a-1]`` more by a
    caption that ends (or is replaced) when it has been on screen for only a = 1 or 2 frames.
    """
    p = len(probs)
    if p == 0:
        return []
    s = pair_log_scores(probs)  # (P, 5)
    n = p + 1
    short = np.zeros(_AGES + 1)
    short[1 : 1 + len(short_penalty)] = short_penalty[:_AGES]
    neg = -1e18
    score = np.full((n, _AGES + 1), neg)
    # Frame 0: empty, or a caption already running (its age unknown, so no short penalty).
    score[0, _E] = 0.0
    score[0, _AGES] = 0.0
    back_state = np.zeros((n, _AGES + 1), dtype=np.int8)
    back_new = np.zeros((n, _AGES + 1), dtype=bool)
    for t in range(1, n):
        k = s[t - 1]
        prev = score[t - 1]
        # → empty: from empty, or a caption ending (aged a)
        cands = [prev[_E] + k[EMPTY_EMPTY]] + [
            prev[a] + k[VALID_EMPTY] - change_penalty - short[a] for a in range(1, _AGES + 1)]
        j = int(np.argmax(cands))
        score[t, _E], back_state[t, _E] = cands[j], j
        # → new caption (age 1): appearing from empty, or replacing a caption (different)
        cands = [prev[_E] + k[EMPTY_VALID] - change_penalty] + [
            prev[a] + k[DIFFERENT] - change_penalty - short[a] for a in range(1, _AGES + 1)]
        j = int(np.argmax(cands))
        score[t, 1], back_state[t, 1], back_new[t, 1] = cands[j], j, True
        # → the same caption, one frame older
        for a in range(2, _AGES + 1):
            src = [a - 1] if a < _AGES else [_AGES - 1, _AGES]
            best = max(src, key=lambda q: prev[q])
            score[t, a], back_state[t, a] = prev[best] + k[SAME], best
    states = np.zeros(n, dtype=np.int8)
    starts_new = np.zeros(n, dtype=bool)
    states[-1] = int(np.argmax(score[-1]))  # no short penalty at the end: the clip cut it
    for t in range(n - 1, 0, -1):
        starts_new[t] = back_new[t, states[t]]
        states[t - 1] = back_state[t, states[t]]
    on = states > 0
    intervals: list[Interval] = []
    start = None
    for t in range(n):
        if on[t] and (start is None or starts_new[t]):
            if start is not None:
                intervals.append(_interval(start, t, s, first_index))
            start = t
        elif not on[t] and start is not None:
            intervals.append(_interval(start, t, s, first_index))
            start = None
    if start is not None:
        intervals.append(_interval(start, n, s, first_index))
    return intervals


def _interval(start: int, end: int, s: np.ndarray, offset: int) -> Interval:
    inside = s[start : max(start, end - 1), SAME]
    conf = float(inside.mean()) if inside.size else 0.0
    return Interval(start + offset, end + offset, conf)
