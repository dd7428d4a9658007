"""The sequence decoder recovers known caption intervals from noisy pair probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_kernels.extents.base import BACKWARD_OF, DIFFERENT, EMPTY_EMPTY, EMPTY_VALID, SAME, VALID_EMPTY, PairProbs
from gpu_kernels.extents.decode import Interval, decode_intervals, pair_log_scores


def labels_for(n: int, intervals: list[tuple[int, int]]) -> np.ndarray:
    """True forward labels of the n-1 consecutive pairs of n frames with these captions."""
    cap = np.full(n, -1)
    for k, (s, e) in enumerate(intervals):
        cap[s:e] = k
    out = []
    for a, b in zip(cap[:-1], cap[1:]):
        if a < 0 and b < 0:
            out.append(EMPTY_EMPTY)
        elif a < 0:
            out.append(EMPTY_VALID)
        elif b < 0:
            out.append(VALID_EMPTY)
        else:
            out.append(SAME if a == b else DIFFERENT)
    return np.array(out)


def noisy_probs(labels: np.ndarray, rng: np.random.Generator, confidence: float = 0.8,
                flips: int = 0) -> PairProbs:
    """Probabilities peaked on the true label, Dirichlet noise, plus ``flips`` pairs whose
    forward reading (only) is confidently wrong."""
    p = len(labels)
    fwd = rng.dirichlet(np.ones(5), p) * (1 - confidence)
    fwd[np.arange(p), labels] += confidence
    bwd = rng.dirichlet(np.ones(5), p) * (1 - confidence)
    bwd[np.arange(p), BACKWARD_OF[labels]] += confidence
    for k in rng.choice(p, size=flips, replace=False):
        wrong = (labels[k] + 1 + rng.integers(4)) % 5
        fwd[k] = 0.02
        fwd[k, wrong] = 0.92
    return PairProbs(fwd.astype(np.float32), bwd.astype(np.float32))


CASES = [
    [(5, 25), (30, 50)],  # ordinary captions with gaps
    [(0, 12), (12, 20), (20, 45)],  # on at frame 0, back to back, no gaps
    [(10, 13), (20, 21), (40, 60)],  # 0.3 s and 0.1 s captions
    [(3, 40), (41, 70)],  # one-frame gap
    [(15, 80)],  # runs to the end
]


@pytest.mark.parametrize("truth", CASES)
def test_recovers_intervals_from_noisy_probabilities(truth):
    rng = np.random.default_rng(len(truth) * 7 + truth[0][0])
    n = 80
    got = decode_intervals(noisy_probs(labels_for(n, truth), rng, confidence=0.75))
    assert [(iv.start, iv.end) for iv in got] == truth


def test_single_pair_noise_does_not_split_or_invent_captions():
    rng = np.random.default_rng(3)
    truth = [(5, 40), (40, 70), (90, 120)]
    n = 130
    labels = labels_for(n, truth)
    for trial in range(10):
        probs = noisy_probs(labels, rng, confidence=0.7, flips=4)
        got = decode_intervals(probs)
        assert [(iv.start, iv.end) for iv in got] == truth, f"trial {trial}"


def test_first_index_offsets_and_scores():
    rng = np.random.default_rng(0)
    probs = noisy_probs(labels_for(30, [(4, 20)]), rng)
    got = decode_intervals(probs, first_index=100)
    assert len(got) == 1 and isinstance(got[0], Interval)
    assert (got[0].start, got[0].end) == (104, 120)
    # The score is the mean log-probability that the caption's own pairs are SAME (its last pair
    # leads out of it): near log(0.8) here, and far below it for a span the model was unsure of.
    assert got[0].score == pytest.approx(float(pair_log_scores(probs)[4:19, SAME].mean()))
    assert np.log(0.8) - 0.1 < got[0].score < 0.0
    unsure = decode_intervals(noisy_probs(labels_for(30, [(4, 20)]), rng, confidence=0.45))
    assert all(iv.score < got[0].score for iv in unsure)


def test_empty_input():
    assert decode_intervals(PairProbs.concat([])) == []
