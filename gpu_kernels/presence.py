"""In how many of a span's frames a line read from its median is really there.

The per-pixel median shows what most frames show where the background holds still. Across hard
cuts it does not: where the shots are dark on some frames and bright on others, the median's
middle value is whatever few frames put there, and a caption shown on a fifth of the span (the
end of the previous one, in a span that starts 0.5 s early) reads as clearly as the span's own
(cuts3 benchmark, fast_cuts_vertical: two captions came out as one two-line caption). A line
the span's frames hold is on their Y plane where the median has its edges; a line of a few
frames is not.
"""

from __future__ import annotations

import numpy as np

# Y values this close to the median's count as the same pixel (VP9 at the crop's quality and
# the median's rounding move a caption's pixels by a few levels; a different shot by tens).
AGREE_LEVELS = 24
# The share of a box's pixels, by the median's gradient, taken as its edges: a caption line's
# glyph strokes and outline.
EDGE_SHARE = 0.2


def presence(frames_y: np.ndarray, median_y: np.ndarray, x: float, y: float, width: float,
             height: float) -> float:
    """The share of the (N, h, w) luma planes within AGREE_LEVELS of their (h, w) median at the
    median's edges inside a box (in the planes' pixels); 1.0 for a box of no area."""
    if frames_y.ndim != 3 or median_y.shape != frames_y.shape[1:]:
        raise ValueError(f"expected (N, h, w) frames and an (h, w) median, got {frames_y.shape} and {median_y.shape}")
    h, w = median_y.shape
    x0, y0 = max(0, int(x)), max(0, int(y))
    x1, y1 = min(w, int(np.ceil(x + width))), min(h, int(np.ceil(y + height)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return 1.0
    patch = median_y[y0:y1, x0:x1]
    gy, gx = np.gradient(patch.astype(np.float32))
    mag = np.hypot(gx, gy)
    edges = mag >= np.quantile(mag, 1.0 - EDGE_SHARE)
    near = np.abs(frames_y[:, y0:y1, x0:x1][:, edges].astype(np.int16) - patch[edges].astype(np.int16)) <= AGREE_LEVELS
    return float(near.mean())
