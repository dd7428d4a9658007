"""Normalized crop regions → pixel boxes."""

from __future__ import annotations

import math

from .errors import InvalidCropRegion


def region_to_box(
    left: float, top: float, right: float, bottom: float, width: int, height: int
) -> tuple[int, int, int, int]:
    """Pixel box ``(x0, y0, x1, y1)`` for a region given in fractions of the frame.

    The box grows outward to even coordinates because VP9 in 4:2:0 needs even sizes; a region
    outside [0, 1], inverted, or smaller than 2x2 pixels is refused.
    """
    vals = (left, top, right, bottom)
    if any(not isinstance(v, (int, float)) or math.isnan(v) for v in vals):
        raise InvalidCropRegion(f"crop region must be four numbers, got {vals!r}")
    if any(v < 0 or v > 1 for v in vals):
        raise InvalidCropRegion(f"crop region {vals!r} is outside [0, 1]")
    if not (left < right and top < bottom):
        raise InvalidCropRegion(f"crop region {vals!r} is empty or inverted (need left<right, top<bottom)")
    x0 = int(math.floor(left * width)) & ~1
    y0 = int(math.floor(top * height)) & ~1
    x1 = min(width, int(math.ceil(right * width)))
    y1 = min(height, int(math.ceil(bottom * height)))
    x1 -= (x1 - x0) % 2
    y1 -= (y1 - y0) % 2
    if x1 - x0 < 2 or y1 - y0 < 2:
        raise InvalidCropRegion(f"crop region {vals!r} is under 2x2 pixels on a {width}x{height} video")
    return x0, y0, x1, y1
