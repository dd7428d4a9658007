"""Pair probabilities → caption intervals, by Viterbi over per-frame states.

Each frame is empty (E) or shows a caption (V). Every pair label is a transition:
E→E empty_empty, E→V empty_valid, V→E valid_empty, V→V same (or different: a new caption
starts). Forward and backward predictions vote together; a penalty on every change keeps one
noisy pair from splitting or inventing a caption.
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


def decode_intervals(
    probs: PairProbs, first_index: int = 0, change_penalty: float = 1.0
) -> list[Interval]:
    """Decode the most likely caption intervals for frames first_index … first_index+P."""
    p = len(probs)
    if p == 0:
        return []
    s = pair_log_scores(probs)  # (P, 5)
    n = p + 1
    # score[t, state]; back[t, state] = (previous state, new caption started at t)
    score = np.zeros((n, 2))
    back_state = np.zeros((n, 2), dtype=np.int8)
    back_new = np.zeros((n, 2), dtype=bool)
    for t in range(1, n):
        k = s[t - 1]
        e_from_e = score[t - 1, 0] + k[EMPTY_EMPTY]
        e_from_v = score[t - 1, 1] + k[VALID_EMPTY] - change_penalty
        if e_from_e >= e_from_v:
            score[t, 0], back_state[t, 0] = e_from_e, 0
        else:
            score[t, 0], back_state[t, 0] = e_from_v, 1
        v_from_e = score[t - 1, 0] + k[EMPTY_VALID] - change_penalty
        v_same = score[t - 1, 1] + k[SAME]
        v_diff = score[t - 1, 1] + k[DIFFERENT] - change_penalty
        best = max(v_from_e, v_same, v_diff)
        score[t, 1] = best
        if best == v_same:
            back_state[t, 1], back_new[t, 1] = 1, False
        elif best == v_diff:
            back_state[t, 1], back_new[t, 1] = 1, True
        else:
            back_state[t, 1], back_new[t, 1] = 0, True
    # Frame 0's state has no pair of its own: the first pair decides it via the back-pointers.
    states = np.zeros(n, dtype=np.int8)
    starts_new = np.zeros(n, dtype=bool)
    states[-1] = int(np.argmax(score[-1]))
    for t in range(n - 1, 0, -1):
        starts_new[t] = back_new[t, states[t]]
        states[t - 1] = back_state[t, states[t]]
    intervals: list[Interval] = []
    start = None
    for t in range(n):
        if states[t] == 1 and (start is None or starts_new[t]):
            if start is not None:
                intervals.append(_interval(start, t, s, first_index))
            start = t
        elif states[t] == 0 and start is not None:
            intervals.append(_interval(start, t, s, first_index))
            start = None
    if start is not None:
        intervals.append(_interval(start, n, s, first_index))
    return intervals


def _interval(start: int, end: int, s: np.ndarray, offset: int) -> Interval:
    inside = s[start : max(start, end - 1), SAME]
    conf = float(inside.mean()) if inside.size else 0.0
    return Interval(start + offset, end + offset, conf)
