"""Checkpoint selection by whole-clip caption quality, not pair accuracy.

Two runs of one recipe reached the same pair accuracy (0.974) but 1.7% and 12% extra captions
on the held-aside clips: what matters is the decoded captions. So training scores late
checkpoints on a few whole clips (training fonts and footage, seeds of their own, never the
benchmark's held-aside clips) the way production reads them — 10 Hz band crops, forward and
backward pair probabilities, the Viterbi decoder — and keeps the best.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from gpu_kernels.extents import decode_intervals
from gpu_kernels.extents.base import PairProbs
from gpu_kernels.extents.learned import ExtentsNet, pair_probs
from gpu_kernels.video import crop_transform, iter_frames_at_rate
from tasks.crop_infer import grid_seconds

from .clips import make_clip
from .pool import render_map

RATE = 10.0
TOLERANCE = 0.1  # seconds: a boundary within this of the truth counts as right


@dataclass
class SelectionClip:
    frames: np.ndarray  # (T, h, w, 3) uint8 band crops at 10 Hz
    truth: list[tuple[float, float]]  # caption [start, end) in seconds


def _render(job: tuple[str, int]) -> SelectionClip:
    tmp, seed = job
    path = os.path.join(tmp, f"{seed}.mp4")
    truth = make_clip(path, seed, "train", deterministic=True)
    frames = np.stack([f for _, f in iter_frames_at_rate(path, RATE, crop_transform(tuple(truth["band"])))])
    os.unlink(path)
    return SelectionClip(frames, [(c["start"], c["end"]) for c in truth["captions"]])


def make_selection_clips(base_seed: int, count: int, workers: int = 1) -> list[SelectionClip]:
    """Render ``count`` 20-s clips (bit-reproducible encodes) and keep their 10 Hz band crops."""
    with tempfile.TemporaryDirectory(prefix="select-") as tmp:
        jobs = [(tmp, base_seed + k) for k in range(count)]
        return render_map(_render, jobs, workers)


def predict(model: ExtentsNet, frames: np.ndarray) -> PairProbs:
    """Pair probabilities as LearnedPairClassifier reads them, from the model being trained."""
    was_training = model.training
    model.eval()
    try:
        return pair_probs(model, frames, batch_frames=256)
    finally:
        model.train(was_training)


def spans(probs: PairProbs) -> list[tuple[float, float]]:
    """Decoded intervals in seconds, 10 Hz midpoints as the pipeline writes them unrefined."""
    return [grid_seconds(iv.start, iv.end, 0.0) for iv in decode_intervals(probs)]


def match(truth: list[tuple[float, float]], found: list[tuple[float, float]]) -> dict[str, int]:
    """One-to-one matching by temporal IoU ≥ 0.5 (greedy, best first), as the scorer matches."""
    cand = []
    for i, (ts, te) in enumerate(truth):
        for j, (fs, fe) in enumerate(found):
            inter = min(te, fe) - max(ts, fs)
            if inter > 0:
                iou = inter / (max(te, fe) - min(ts, fs))
                if iou >= 0.5:
                    cand.append((iou, i, j))
    used_t, used_f, exact = set(), set(), 0
    for _, i, j in sorted(cand, reverse=True):
        if i in used_t or j in used_f:
            continue
        used_t.add(i)
        used_f.add(j)
        exact += abs(truth[i][0] - found[j][0]) <= TOLERANCE and abs(truth[i][1] - found[j][1]) <= TOLERANCE
    return {"captions": len(truth), "matched": len(used_t), "exact": int(exact), "extra": len(found) - len(used_f)}


def evaluate(model: ExtentsNet, clips: list[SelectionClip]) -> dict[str, float]:
    """Totals over the clips plus ``score`` = (both boundaries right − extra) / captions."""
    tot = {"captions": 0, "matched": 0, "exact": 0, "extra": 0}
    for c in clips:
        for k, v in match(c.truth, spans(predict(model, c.frames))).items():
            tot[k] += v
    n = max(tot["captions"], 1)
    return {**tot, "matched_rate": round(tot["matched"] / n, 4), "exact_rate": round(tot["exact"] / n, 4),
            "extra_rate": round(tot["extra"] / n, 4), "score": round((tot["exact"] - tot["extra"]) / n, 4)}


def describe(result: dict[str, float]) -> str:
    return json.dumps({k: result[k] for k in ("score", "matched_rate", "exact_rate", "extra_rate", "captions")})
