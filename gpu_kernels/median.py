"""Per-pixel median of a frame stack, on the device."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

NETWORK_MAX = 32  # up to this many frames a comparator network beats np.partition on a CPU


def evenly(frames: np.ndarray, max_frames: int) -> np.ndarray:
    """At most ``max_frames`` of a (N, ...) stack, spread evenly over it (first and last kept):
    the frames :func:`median_frame` takes."""
    n = frames.shape[0]
    return frames if n <= max_frames else frames[np.linspace(0, n - 1, max_frames).round().astype(int)]


def median_frame(frames: np.ndarray, device: torch.device, max_frames: int = 63) -> np.ndarray:
    """(N, ...) uint8 → (...) uint8 per-pixel lower median, e.g. (N, H, W, 3) RGB frames or
    (N, h·3/2, w) stacked YUV 4:2:0 planes.

    A caption is static while the background moves, so the median keeps the text and washes
    out the scene. Long captions are subsampled evenly to ``max_frames``: beyond a few dozen
    frames the median no longer changes, only the cost does.
    """
    if frames.ndim < 2 or frames.shape[0] == 0:
        raise ValueError(f"expected a non-empty (N, ...) stack, got shape {frames.shape}")
    frames = evenly(frames, max_frames)
    n = frames.shape[0]
    if device.type == "cpu":
        if n <= NETWORK_MAX:
            return _network_median(frames)
        return np.partition(frames, (n - 1) // 2, axis=0)[(n - 1) // 2]
    stack = torch.from_numpy(np.ascontiguousarray(frames)).to(device)  # (N, ...) uint8
    # torch.median has no uint8 kernel on every backend; int16 is exact and cheap.
    med = stack.to(torch.int16).median(dim=0).values  # the lower median
    return med.to(torch.uint8).cpu().numpy()


def _network_median(frames: np.ndarray) -> np.ndarray:
    """Lower median by a comparator network: each comparator is one SIMD min and one max over
    whole frames, ~10x faster than np.partition's per-pixel selection along the stack axis."""
    n = frames.shape[0]
    rank = (n - 1) // 2
    wires = [np.array(f) for f in frames]  # copies: the network works in place
    tmp = np.empty_like(wires[0])
    for i, j in selection_network(n, rank):
        np.minimum(wires[i], wires[j], out=tmp)
        np.maximum(wires[i], wires[j], out=wires[j])
        wires[i], tmp = tmp, wires[i]
    return wires[rank]


@lru_cache(maxsize=None)
def selection_network(n: int, rank: int) -> tuple[tuple[int, int], ...]:
    """Comparators ``(i, j)``, i < j (min to i, max to j), after which wire ``rank`` holds the
    rank-th smallest of ``n`` inputs: Batcher's odd-even merge sort, pruned to the comparators
    that can reach that wire."""
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    need, keep = {rank}, []
    for i, j in reversed(pairs):
        if i in need or j in need:
            keep.append((i, j))
            need |= {i, j}
    return tuple(reversed(keep))
