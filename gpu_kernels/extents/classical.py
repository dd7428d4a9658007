"""ClassicalChangeDetector: edge-density presence and edge-map differencing, no learning.

This is what peer tools do (frame differencing on a text-like edge map). It fills the model's
interface so the pipeline runs end to end; it is kept as a baseline for benchmarks.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .base import PairPredictor, PairProbs

_HEIGHT = 48  # analysis height; captions stay legible as edges at this size


class ClassicalChangeDetector(PairPredictor):
    name = "classical"
    version = "1"

    def __init__(self, device: torch.device | None = None, presence_threshold: float = 0.035,
                 change_threshold: float = 0.35) -> None:
        self.device = device or torch.device("cpu")
        self.presence_threshold = presence_threshold
        self.change_threshold = change_threshold

    def _edges(self, frames: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(frames)).to(self.device)  # (N, H, W, 3) uint8
        x = x.permute(0, 3, 1, 2).float()  # (N, 3, H, W)
        gray = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)  # (N, 1, H, W)
        h, w = gray.shape[-2:]
        new_w = max(8, int(round(w * _HEIGHT / h)))
        gray = F.interpolate(gray, size=(_HEIGHT, new_w), mode="area")
        gx = (gray[..., :, 2:] - gray[..., :, :-2]).abs()[..., 1:-1, :]
        gy = (gray[..., 2:, :] - gray[..., :-2, :]).abs()[..., :, 1:-1]
        edge = (gx + gy) > 90.0  # strong edges: text outlines, not soft scene gradients
        bright = gray[..., 1:-1, 1:-1] > 170.0
        # Caption strokes are bright and outlined: keep strong edges next to bright pixels.
        mask = edge & (F.max_pool2d(bright.float(), 3, 1, 1) > 0)
        return F.max_pool2d(mask.float(), 3, 1, 1)  # dilate: tolerate 1-px jitter from encoding

    def predict(self, frames: np.ndarray) -> PairProbs:
        n = frames.shape[0]
        if n < 2:
            return PairProbs.concat([])
        with torch.no_grad():
            # Sub-batches: float copies of full-width crops would otherwise cost GBs per batch.
            m = torch.cat([self._edges(frames[i : i + 32]).flatten(1) for i in range(0, n, 32)])  # (N, D)
            density = m.mean(1)  # (N,)
            inter = (m[:-1] * m[1:]).sum(1)
            union = torch.maximum(m[:-1], m[1:]).sum(1).clamp(min=1)
            change = 1 - inter / union  # (N-1,) Jaccard distance of the two edge maps
        pv = torch.sigmoid((density - self.presence_threshold) * 150)  # P(valid) per frame
        pd = torch.sigmoid((change - self.change_threshold) * 12)  # P(different | both valid)
        a, b = pv[:-1], pv[1:]
        fwd = torch.stack(
            [a * b * (1 - pd), a * b * pd, (1 - a) * (1 - b), (1 - a) * b, a * (1 - b)], dim=1
        )
        bwd = torch.stack(
            [a * b * (1 - pd), a * b * pd, (1 - a) * (1 - b), a * (1 - b), (1 - a) * b], dim=1
        )
        fwd = (fwd + 1e-4) / (fwd + 1e-4).sum(1, keepdim=True)
        bwd = (bwd + 1e-4) / (bwd + 1e-4).sum(1, keepdim=True)
        return PairProbs(fwd.cpu().numpy().astype(np.float32), bwd.cpu().numpy().astype(np.float32))
