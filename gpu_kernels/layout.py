"""Layout suggestion: find the caption band in OCR boxes and turn it into a crop region."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from .text import bare, edit_distance


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
    """The primary caption region (see :func:`suggest_regions`)."""
    return suggest_regions(boxes, n_frames, aspect, min_confidence, max_box_height)[0]


# Caption lines are sized to the frame's height (ASS font sizes scale with PlayResY): 4-8% in
# every set we have (broadcast, anime, short-video "big" styles), 8.2% at most. A line read
# taller than this (1.5x that) is the scene's. Boxes up to a fifth of the frame still count for
# finding signs, whose big line anchors their smaller pieces.
MAX_LINE_HEIGHT = 0.12
# ... except big captions: variety shows and short videos draw captions 1.2-1.5 times that size
# with 4-6 px outlines, read 0.12-0.14 tall (styles benchmark, variety: every bottom caption of
# a Korean clip lost with its band; toy letter blocks read 0.17-0.19). A group of lines up to
# BIG_MAX_HEIGHT is kept where it reads as captions do and scene text rarely does: lines of
# BIG_MIN_CHARS or more, surely read (BIG_CONFIDENCE), in BIG_MIN_FRAMES sampled frames or more,
# half the group's lines or more, two of their texts neither part of the other (letters spelled
# out one by one are), a sign the edit cuts back to left out (:func:`_big_captions`).
BIG_MAX_HEIGHT = 0.16
BIG_CONFIDENCE = 0.85
BIG_MIN_CHARS = 4
BIG_MIN_FRAMES = 3

# At most this many regions per video: each one costs a band of model inference and VP9. Short
# videos move their captions between shots: bottom, top, middle, upper and lower thirds and a
# left-aligned line at mid height make five bands (a held-out moving draw lost the fifth, two
# captions, at four). A video with one caption band pays nothing for the headroom.
MAX_REGIONS = 6


def _good(boxes: Sequence[Box], min_confidence: float, max_box_height: float) -> list[Box]:
    # A caption line is never a fifth of the frame tall: taller "boxes" are OCR hallucinations on
    # scene texture and would bridge every group below.
    return [b for b in boxes if b.text.strip() and b.confidence >= min_confidence
            and 0 < b.bottom - b.top <= max_box_height]


def _line_groups(good: list[Box]) -> list[list[Box]]:
    """Greedy 1-D clustering of vertical centres: a gap above half a box height starts a group."""
    order = sorted(good, key=lambda b: (b.top + b.bottom) / 2)
    groups: list[list[Box]] = [[order[0]]]
    for b in order[1:]:
        prev = groups[-1][-1]
        tol = 0.5 * min(b.bottom - b.top, prev.bottom - prev.top)
        if (b.top + b.bottom) / 2 - (prev.top + prev.bottom) / 2 <= tol:
            groups[-1].append(b)
        else:
            groups.append([b])
    return groups


def _extent(g: list[Box]) -> tuple[float, float, float]:
    """(top, bottom, median box height) of a group, robust to a stray box."""
    h = float(np.median([b.bottom - b.top for b in g]))
    return (float(np.percentile([b.top for b in g], 5)),
            float(np.percentile([b.bottom for b in g], 95)), h)


def _stacked(upper: list[Box], lower: list[Box]) -> bool:
    """Two line groups are one caption band when they are a line apart or less and their lines
    show together (a two-line caption) or take turns at nearly the same height (captions that
    move a little between shots)."""
    ut, ub, uh = _extent(upper)
    lt, lb, lh = _extent(lower)
    gap = lt - ub
    if gap > 0.9 * max(uh, lh):
        return False
    together = {b.frame_index for b in upper} & {b.frame_index for b in lower}
    if together:
        return any(_overlap_x(u, l) for u in upper for l in lower if u.frame_index == l.frame_index)
    return gap <= 0.5 * max(uh, lh)


def _overlap_x(a: Box, b: Box) -> bool:
    return min(a.right, b.right) > max(a.left, b.left)


def _bands(good: list[Box]) -> list[list[list[Box]]]:
    """Line groups joined into bands (each a list of its line groups, top to bottom): stacks
    of lines, and positions a caption moves between."""
    bands: list[list[list[Box]]] = []
    for g in _line_groups(good):
        if bands and _stacked(bands[-1][-1], g):
            bands[-1].append(g)
        else:
            bands.append([g])
    return bands


def _flat(band: list[list[Box]]) -> list[Box]:
    return [b for g in band for b in g]


def _fixed_texts(g: list[Box], n_frames: int) -> set[str]:
    """Texts read exactly alike in 60% of the sampled frames or more (see :func:`_static`)."""
    frames: dict[str, set[int]] = {}
    for b in g:
        t = bare(b.text)
        if len(t) >= 2:
            frames.setdefault(t, set()).add(b.frame_index)
    return {t for t, f in frames.items() if len(f) >= 3 and len(f) >= 0.6 * n_frames}


def _sign_boxes(good: list[Box], n_frames: int) -> list[Box]:
    """Signs and watermarks: in every band holding a text read exactly alike in most frames,
    that text and every other piece of the sign (see :func:`_sign_piece`). Captions at the
    sign's height, even drawn over it, come and go and are not among them."""
    fixed = _fixed_texts(good, n_frames)
    if not fixed or not good:
        return []
    out: list[Box] = []
    for band in _bands(good):
        flat = _flat(band)
        if any(bare(b.text) in fixed for b in flat):
            out += [b for b in flat if bare(b.text) in fixed or _sign_piece(b, flat, n_frames)]
    return out


def _without_signs(good: list[Box], n_frames: int) -> list[Box]:
    signs = {id(b) for b in _sign_boxes(good, n_frames)}
    return [b for b in good if id(b) not in signs]


def scene_texts(boxes: Sequence[Box], n_frames: int, min_confidence: float = 0.5,
                max_box_height: float = 0.2, limit: int = 64) -> list[tuple[str, int]]:
    """The readings of the scene's fixed text (signs, logos, watermarks; a sign the edit cuts
    back to, :func:`_backdrop_boxes`), most frames first, with the number of sampled frames
    each was read in: text that is never a caption's, even where a caption band takes it in."""
    good = _good(boxes, min_confidence, max_box_height)
    frames: dict[str, set[int]] = {}
    for b in _sign_boxes(good, n_frames) + _backdrop_boxes(_without_signs(good, n_frames)):
        frames.setdefault(b.text.strip(), set()).add(b.frame_index)
    return sorted(((t, len(f)) for t, f in frames.items()), key=lambda x: (-x[1], x[0]))[:limit]


# A sign's harder lines are read a little differently each frame (OCR text similarity above
# this), in about the same place (x-overlap over union above SIGN_X_IOU); captions differ
# from one another in text, however alike in place and size.
SIGN_TEXT_SIMILARITY = 0.4
SIGN_X_IOU = 0.5


def _sign_piece(b: Box, band: list[Box], n_frames: int) -> bool:
    """A line that some near-copy of (same place, similar reading) shows in 60% of the sampled
    frames or more: part of a sign, not a caption (no one caption fills most samples)."""
    from difflib import SequenceMatcher

    mine = bare(b.text)
    if not mine:
        return True
    frames = set()
    for c in band:
        if c.frame_index in frames:
            continue
        inter = min(b.right, c.right) - max(b.left, c.left)
        union = max(b.right, c.right) - min(b.left, c.left)
        if union <= 0 or inter / union < SIGN_X_IOU:
            continue
        if c is b or SequenceMatcher(None, mine, bare(c.text)).ratio() >= SIGN_TEXT_SIMILARITY:
            frames.add(c.frame_index)
    return len(frames) >= max(3, 0.6 * n_frames)


def _static(g: list[Box], n_frames: int) -> bool:
    """One text, read exactly alike, in most sampled frames: a sign or a watermark, not
    captions. A sign's clean line reads the same in every frame even as the camera moves (its
    harder lines vary); captions change within seconds, so no one caption's text fills most
    samples, however alike captions made from one template read."""
    return bool(_fixed_texts(g, n_frames))


def _glyphs(g: list[Box]) -> bool:
    """Read mostly as lone glyphs: scene texture (letter blocks, tiles, keys), far more often
    than captions, which come as lines of several characters."""
    return float(np.median([len(bare(b.text)) for b in g])) < 2


# Edited video cuts back to a shot: its sign or livery is read again after other shots, as one
# text in runs of sampled frames RECUR_GAP (10 Hz frames) apart or more. A caption's text shows
# in one run and is gone. Texts this short (letters, digits, CJK characters) are left out:
# "OK" may well be said twice.
RECUR_GAP = 30
RECUR_MIN_CHARS = 3
RECUR_SIMILAR = 0.6
# Texts compared pairwise at most: a band of more different readings than this is texture (a
# text-rich scene), for the other tests to judge; the comparison grows with their square.
RECUR_MAX_TEXTS = 150


def _ratio_copy(m, t: str, u: str) -> bool:
    """The recurrence test's near-copy: difflib ratio RECUR_SIMILAR or more (``m`` has ``t`` as
    its second sequence)."""
    if 2 * min(len(t), len(u)) < RECUR_SIMILAR * (len(t) + len(u)):
        return False  # the ratio can be at most that
    m.set_seq1(u)
    return m.quick_ratio() >= RECUR_SIMILAR and m.ratio() >= RECUR_SIMILAR


def _recurring_groups(g: list[Box], near=_ratio_copy) -> list[list[Box]]:
    """The boxes of ``g`` whose text (near-copies of it by ``near(matcher, t, u)``: OCR reads
    a sign a little differently each time) was read in two runs of frames or more, RECUR_GAP
    apart: one list per text read (its near-copies' boxes with it; the lists overlap)."""
    from difflib import SequenceMatcher

    by_text: dict[str, list[Box]] = {}
    for b in g:
        t = bare(b.text)
        if len(t) >= RECUR_MIN_CHARS:
            by_text.setdefault(t, []).append(b)
    out: list[list[Box]] = []
    if len(by_text) > RECUR_MAX_TEXTS:
        return out
    m = SequenceMatcher(autojunk=False)
    for t in by_text:
        m.set_seq2(t)  # its index is built once for every text it is compared with
        copies = [t] + [u for u in by_text if u != t and near(m, t, u)]
        frames = sorted({b.frame_index for u in copies for b in by_text[u]})
        if any(b2 - a2 >= RECUR_GAP for a2, b2 in zip(frames, frames[1:])):
            out.append([b for u in copies for b in by_text[u]])
    return out


def _recurring(g: list[Box]) -> set[int]:
    """The boxes (ids) of ``g`` whose text recurs (:func:`_recurring_groups`)."""
    return {id(b) for group in _recurring_groups(g) for b in group}


# A text that recurs (:func:`_recurring`) and was read in the same frames as BACKDROP_CONTEXTS
# different lines of its band or more (of BACKDROP_MIN_CHARS letters or more; near-copies count
# once) is the scene's even in a caption band: the edit cut back to a sign that captions
# changed in front of. A repeated caption (a chorus) comes back with its own lines only.
BACKDROP_CONTEXTS = 2
BACKDROP_MIN_CHARS = 4
# Near-copies for this test are closer than the recurrence test's (its finds are dropped from
# captions): OCR misreads a sign's letters, it does not make the reading longer or shorter, so a
# reading of BACKDROP_COPY_CHARS letters or more within BACKDROP_EDITS edits per letter of
# another is it (a night sign's four readings, 11 letters, 2-3 misread: 0.18-0.27); two
# captions' second lines that share an ending are not ("birde kalkıyor." / "içinde başlıyor.",
# Turkish, 0.43, but difflib ratio 0.67). Shorter texts count only read alike. Among the 17
# languages' caption texts of the benchmarks split at every word, the pairs this close are all
# of 4-5 letters.
BACKDROP_EDITS = 0.3
BACKDROP_COPY_CHARS = 6


def _backdrop_copy(m, t: str, u: str) -> bool:
    n = max(len(t), len(u))
    if min(len(t), len(u)) < BACKDROP_COPY_CHARS or abs(len(t) - len(u)) > BACKDROP_EDITS * n:
        return False
    m.set_seq1(u)  # within that many edits the ratio is 1 - BACKDROP_EDITS or more
    return m.quick_ratio() >= 1 - BACKDROP_EDITS and edit_distance(t, u) <= BACKDROP_EDITS * n


def _backdrop(flat: list[Box]) -> set[int]:
    """The boxes (ids) of a band's recurring texts read beside different captions of the band
    (see BACKDROP_CONTEXTS)."""
    from difflib import SequenceMatcher

    groups = _recurring_groups(flat, _backdrop_copy)
    recurring = {id(b) for group in groups for b in group}
    out: set[int] = set()
    for group in groups:
        frames = {b.frame_index for b in group}
        contexts: list[str] = []
        for c in flat:
            t = bare(c.text)
            if (c.frame_index in frames and id(c) not in recurring and len(t) >= BACKDROP_MIN_CHARS
                    and not any(SequenceMatcher(None, t, u, autojunk=False).ratio() >= RECUR_SIMILAR
                                for u in contexts)):
                contexts.append(t)
        if len(contexts) >= BACKDROP_CONTEXTS:
            out |= {id(b) for b in group}
    return out


def _backdrop_boxes(good: list[Box]) -> list[Box]:
    """The boxes of ``good`` that are the backdrop of their band (:func:`_backdrop`)."""
    out: list[Box] = []
    for band in _bands(good) if good else []:
        flat = _flat(band)
        backdrop = _backdrop(flat)
        out += [b for b in flat if id(b) in backdrop]
    return out


# Captions are read surely (0.9-1.0, 0.75 and up on a white table); scene text (a night sign,
# a worn label) mostly is not.
CAPTION_CONFIDENCE = 0.75


def _trimmed(band: list[list[Box]]) -> list[list[Box]]:
    """``band`` without the line groups at its top and bottom that are the scene's: read
    unsurely by OCR, or at least half a sign the edit cuts back to (:func:`_backdrop`; a reading
    of it too garbled to count as a copy rides along). A sign read just above a caption in one
    frame stacks onto the band like a caption's second line and would stretch the region over
    the scene (a short video's band reached from its captions at 0.45-0.86 of the height up to
    a shop sign at 0.15), and keep the band of captions placed above it from being a region.
    Lines between the kept ones stay: the region spans them."""
    if len(band) < 2:
        return band
    backdrop = _backdrop(_flat(band))

    def scene(g: list[Box]) -> bool:
        return (float(np.mean([b.confidence for b in g])) < CAPTION_CONFIDENCE
                or 2 * sum(id(b) in backdrop for b in g) >= len(g))

    lo, hi = 0, len(band)
    while hi - lo > 1 and scene(band[lo]):
        lo += 1
    while hi - lo > 1 and scene(band[hi - 1]):
        hi -= 1
    return band[lo:hi]


def _caption_like(g: list[Box], n_frames: int) -> bool:
    """Text that comes and goes or changes, in lines of one height: captions. A logo or
    watermark shows one text nearly always; scene text rarely keeps one line height; a text
    that comes back after other shots is the scene's (:func:`_recurring`)."""
    recurring = _recurring(g)
    g = [b for b in g if id(b) not in recurring]
    if not g:
        return False
    frames = {b.frame_index for b in g}
    texts = {b.text.strip() for b in g}
    if len(frames) < 2:
        return False
    if _static(g, n_frames):
        return False
    if _glyphs(g):
        return False
    hs = np.array([b.bottom - b.top for b in g])
    return float(np.std(hs)) <= 0.35 * float(np.median(hs)) and \
        float(np.mean([b.confidence for b in g])) >= CAPTION_CONFIDENCE


def _big_captions(g: list[Box], n_frames: int) -> bool:
    """Lines taller than MAX_LINE_HEIGHT that are big captions (see there), not the scene's."""
    recurring = _recurring(g)  # a sign the edit cuts back to is read surely each time
    g = [b for b in g if id(b) not in recurring]
    sure = [b for b in g if b.confidence >= BIG_CONFIDENCE and len(bare(b.text)) >= BIG_MIN_CHARS]
    texts = sorted({bare(b.text) for b in sure})
    apart = any(t not in u and u not in t for i, t in enumerate(texts) for u in texts[i + 1:])
    return (len({b.frame_index for b in sure}) >= BIG_MIN_FRAMES and apart and 2 * len(sure) >= len(g)
            and _caption_like(g, n_frames))


def _score(g: list[Box]) -> float:
    frames = {b.frame_index for b in g}
    texts = {b.text.strip() for b in g}
    cx = np.array([(b.left + b.right) / 2 for b in g])
    cy = float(np.mean([(b.top + b.bottom) / 2 for b in g]))
    centring = float(np.exp(-(((cx - 0.5) / 0.2) ** 2)).mean())
    lowness = 0.5 + cy
    variety = 1.0 if len(frames) <= 2 else min(1.0, 0.2 + len(texts) / len(frames))
    return len(frames) * (0.3 + centring) * lowness * variety


def suggest_regions(
    boxes: Sequence[Box], n_frames: int, aspect: float, min_confidence: float = 0.5,
    max_box_height: float = 0.2, max_regions: int = MAX_REGIONS,
) -> list[LayoutSuggestion]:
    """Every caption region in the OCR boxes of ``n_frames`` sampled frames, primary first.

    Boxes are grouped by vertical centre; neighbouring groups whose lines show together (a
    two-line caption) or alternate at nearly one height are one band, sized to the tallest
    stack seen. The primary band scores highest on frames covered × centring × lowness × text
    variety (the one region of most videos); every other band whose text comes and goes in
    lines of one height is a region too (top captions, signs, mid-frame short-video captions).
    ``aspect`` is width / height. Never empty: with no text, the default bottom band.
    """
    good = _without_signs(_good(boxes, min_confidence, max_box_height), n_frames)
    # After the signs are known (a sign's big line anchors its smaller pieces): lines taller
    # than any caption's are the scene's (letter blocks, posters, shop fronts), and so are
    # heights at which the text reads as lone glyphs (texture), which would otherwise stretch
    # a caption band they happen to sit next to.
    tall = [b for b in good if MAX_LINE_HEIGHT < b.bottom - b.top <= BIG_MAX_HEIGHT]
    good = [b for b in good if b.bottom - b.top <= MAX_LINE_HEIGHT]
    good += [b for g in (_line_groups(tall) if tall else []) if _big_captions(g, n_frames) for b in g]
    good = [b for g in (_line_groups(good) if good else []) if not _glyphs(g) for b in g]
    if not good:
        return [_default(n_frames)]
    bands = sorted(map(_trimmed, _bands(good)), key=lambda band: _score(_flat(band)), reverse=True)
    # A sign or watermark is never a caption region, nor is text read in one sampled frame only
    # (a caption band shows text in several); with only those, the default bottom band (a
    # video whose only text is the scene's).
    bands = [band for band in bands if not _static(_flat(band), n_frames)
             and len({b.frame_index for b in _flat(band)}) >= 2]
    if not bands:
        return [_default(n_frames)]
    primary, others = bands[0], bands[1:]
    chosen = [primary] + [g for g in others if _caption_like(_flat(g), n_frames)][: max_regions - 1]
    # Regions never overlap. A band whose lines lie inside one already chosen is dropped (they
    # are read there); one that only reaches into another with its margin (captions placed a
    # little lower for one shot) stays, both margins cut at the middle of the gap between them.
    out: list[LayoutSuggestion] = []
    text: list[tuple[float, float]] = []
    for band in chosen:
        r = _region(band, n_frames, aspect)
        top, bottom = min(_extent(g)[0] for g in band), max(_extent(g)[1] for g in band)
        if any(top < ob and bottom > ot for ot, ob in text):
            continue
        for k, (o, (ot, ob)) in enumerate(zip(out, text)):
            if r.crop_bottom <= o.crop_top or r.crop_top >= o.crop_bottom:
                continue
            if ob <= top:  # o above r
                mid = round((ob + top) / 2, 4)
                out[k], r = replace(o, crop_bottom=min(o.crop_bottom, mid)), replace(r, crop_top=max(r.crop_top, mid))
            else:
                mid = round((bottom + ot) / 2, 4)
                out[k], r = replace(o, crop_top=max(o.crop_top, mid)), replace(r, crop_bottom=min(r.crop_bottom, mid))
        out.append(r)
        text.append((top, bottom))
    return out


def _region(band: list[list[Box]], n_frames: int, aspect: float) -> LayoutSuggestion:
    # Each line's own robust extent, so a second line seen in a few frames still counts.
    extents = [_extent(g) for g in band]
    sel = _flat(band)
    band_top = min(t for t, _, _ in extents)
    band_bottom = max(b for _, b, _ in extents)
    box_h = float(np.median([b.bottom - b.top for b in sel]))
    margin_y = 0.4 * box_h
    top = max(0.0, band_top - margin_y)
    bottom = min(1.0, band_bottom + margin_y)

    lefts = np.array([b.left for b in sel])
    rights = np.array([b.right for b in sel])
    centers = (lefts + rights) / 2
    margin_x = 2.0 * box_h / max(aspect, 1e-6)  # two text heights, in width fractions
    if aspect < 1.0 or float(np.std(centers)) > 0.1:
        # Portrait frames are narrow (the whole width costs little), and captions seen left,
        # centred and right in one band may next time run anywhere across it.
        anchor, anchor_x, left, right = "center", float(np.median(centers)), 0.0, 1.0
    elif abs(float(np.median(centers)) - 0.5) < 0.06:
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
