"""Layout suggestion: find the caption band in OCR boxes and turn it into a crop region."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Box:
    """One OCR box in fractions of the frame, top-left origin."""

    frame_index: int
    left: float
    top: float
    right: float
    bottom: float
    text: str
    confidence: float


@dataclass(frozen=True)
class LayoutSuggestion:
    crop_left: float
    crop_top: float
    crop_right: float
    crop_bottom: float
    anchor_type: str  # "center" | "left" | "right" | "default" (no caption band found)
    anchor_position: float  # x of the anchor, fraction of width
    vertical_center: float  # centre of the caption band, fraction of height
    box_height: float  # median caption box height, fraction of height
    frames_with_text: int  # frames whose OCR contributed to the band
    confidence: float  # 0..1: share of sampled frames that showed a caption in the band


# When OCR finds nothing, crop the bottom band where captions almost always sit.
DEFAULT_REGION = (0.0, 0.72, 1.0, 0.98)


def _default(n_frames: int) -> LayoutSuggestion:
    l, t, r, b = DEFAULT_REGION
    return LayoutSuggestion(l, t, r, b, "default", 0.5, (t + b) / 2, 0.0, 0, 0.0)


def suggest_layout(
    boxes: Sequence[Box], n_frames: int, aspect: float, min_confidence: float = 0.5,
    max_box_height: float = 0.2,
) -> LayoutSuggestion:
    """Suggest a crop region from the OCR boxes of ``n_frames`` sampled frames.

    Captions sit in one horizontal band, usually centred and low, and their text changes from
    frame to frame; a logo or watermark also recurs but with the same text. Boxes are grouped
    by vertical centre and each group scored by frames covered × centring × lowness × text
    variety; the winner's extent plus margins is the crop. ``aspect`` is width / height.
    """
    # A caption line is never a fifth of the frame tall: taller "boxes" are OCR hallucinations on
    # scene texture and would bridge every group below.
    good = [b for b in boxes if b.text.strip() and b.confidence >= min_confidence
            and 0 < b.bottom - b.top <= max_box_height]
    if not good:
        return _default(n_frames)
    cy = np.array([(b.top + b.bottom) / 2 for b in good])
    h = np.array([b.bottom - b.top for b in good])
    order = np.argsort(cy)
    # Greedy 1-D clustering of vertical centres: a gap above half a box height starts a group.
    groups: list[list[int]] = [[int(order[0])]]
    for i in order[1:]:
        prev = groups[-1][-1]
        tol = 0.5 * min(h[i], h[prev])
        if cy[i] - cy[prev] <= tol:
            groups[-1].append(int(i))
        else:
            groups.append([int(i)])

    def score(g: list[int]) -> float:
        frames = {good[i].frame_index for i in g}
        texts = {good[i].text.strip() for i in g}
        cx = np.array([(good[i].left + good[i].right) / 2 for i in g])
        centring = float(np.exp(-(((cx - 0.5) / 0.2) ** 2)).mean())
        lowness = 0.5 + float(cy[g].mean())
        variety = 1.0 if len(frames) <= 2 else min(1.0, 0.2 + len(texts) / len(frames))
        return len(frames) * (0.3 + centring) * lowness * variety

    best = max(groups, key=score)
    sel = [good[i] for i in best]
    hs = h[best]
    box_h = float(np.median(hs))
    band_top = float(np.percentile([b.top for b in sel], 5))
    band_bottom = float(np.percentile([b.bottom for b in sel], 95))
    margin_y = 0.4 * box_h
    top = max(0.0, band_top - margin_y)
    bottom = min(1.0, band_bottom + margin_y)

    lefts = np.array([b.left for b in sel])
    rights = np.array([b.right for b in sel])
    centers = (lefts + rights) / 2
    margin_x = 2.0 * box_h / max(aspect, 1e-6)  # two text heights, in width fractions
    if abs(float(np.median(centers)) - 0.5) < 0.06:
        # Centred captions grow both ways with longer text: keep the crop symmetric and wide.
        half = max(0.5 - float(lefts.min()), float(rights.max()) - 0.5) + margin_x
        half = min(0.5, max(half, 0.3))
        anchor, anchor_x, left, right = "center", 0.5, 0.5 - half, 0.5 + half
    elif float(np.std(lefts)) <= float(np.std(rights)):
        anchor, anchor_x = "left", float(np.median(lefts))
        left, right = max(0.0, float(lefts.min()) - margin_x), 1.0
    else:
        anchor, anchor_x = "right", float(np.median(rights))
        left, right = 0.0, min(1.0, float(rights.max()) + margin_x)
    frames_with_text = len({b.frame_index for b in sel})
    return LayoutSuggestion(
        crop_left=round(max(0.0, left), 4),
        crop_top=round(top, 4),
        crop_right=round(min(1.0, right), 4),
        crop_bottom=round(bottom, 4),
        anchor_type=anchor,
        anchor_position=round(anchor_x, 4),
        vertical_center=round((band_top + band_bottom) / 2, 4),
        box_height=round(box_h, 4),
        frames_with_text=frames_with_text,
        confidence=round(min(1.0, frames_with_text / max(n_frames, 1)), 4),
    )
