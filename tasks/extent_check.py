"""OCR-checked caption extents: read the band inside spans the extents model was unsure of.

On busy backgrounds (patterned cloth, city lights, thin white captions with no outline) the
pair model hesitates between ``same`` and ``empty_empty`` and the decoder then makes long spans
that hold one or more captions plus caption-free stretches, or short junk spans. The caption
OCR reads one per-pixel median per span; the median of a span whose caption covers less than
half of it shows no text, and the caption is lost.

:func:`check_extents` probes such spans: a small median (3 consecutive 10 Hz frames) every
0.5 s (a caption shown for 0.4 s or more is on 2 of some probe's 3 frames), the probes of the
whole video OCR'd together through ``recognize_batch`` (the engine montages bands), in batches
of ``PROBE_BATCHES`` of the engine's batch sizes to bound memory. Then, per span:

* consecutive probes that read the same text (normalised edit distance ≤ 20%) form one
  caption; where the text changes, or a caption-free stretch starts or ends, the span is cut
  (one probe that disagrees with two neighbours reading the same text is taken for OCR noise;
  text read by one probe between empty ones is kept: a short caption looks like that);
* the cut goes to the 10 Hz frame between the two probes where single-frame reads show the
  caption start or stop (bisection, about 3 reads a cut, all cuts' reads of a step in one
  batch); the model's change peak (P(different) + P(empty_valid) + P(valid_empty), forward
  and backward averaged) only places it first, and says nothing where the model was blind;
* a line read beside several different readings (a letter block in the band read as a glyph
  alone and next to every caption) is the scene's and leaves every reading; a probe that read
  part of a caption (a word lost to a bright patch) counts as that caption;
* caption-free stretches (no text in any probe) are cut away, at the ends and inside;
* outside every span, a gap is probed where the layout step's OCR read text no span covers, and
  a brief hesitation of the model (``DIP_P``) is probed once: a cue of a few frames that the
  model was blind to and the layout's 0.5-s sampling stepped over;
* a span in which no probe reads any text is dropped if the model was unsure of it; a span
  that is only long (the model was sure) is kept for the caption OCR to decide;
* a boundary that did not move keeps its refined source-frame time; a new one gets the
  grid time (:func:`tasks.crop_infer.grid_seconds`).

Spans the model was sure of and that are not long pass through untouched, without any OCR:
on clean video this module costs nothing.

Which spans are checked (module constants; none fitted to the real clip this was built
against; ``UNSURE_RUN`` was checked against the held-aside synthetic set, where it must flag
nothing):

* *unsure*: ``UNSURE_RUN`` (5 = 0.5 s) consecutive pairs (all of them, in a shorter span)
  to which the model gave what the decoder made of the pair less than ``UNSURE_P`` (0.7):
  P(same) inside the span, P(change) on the pair that opens or closes it. What loses a caption
  is a stretch the model hesitated over (a caption-free stretch or another caption read as
  "same"), not isolated dips: motion and scene cuts make runs of 1-3 unsure pairs (on the 115
  held-aside synthetic captions no run is longer than 3), and a stretch shorter than the 0.5 s
  between probes could not be located by them anyway, nor would it spoil the median.
* *long*: longer than ``LONG_S`` (4 s). The median needs the caption on more than half of the
  span's frames; a span that long is either one long caption (rare: captions of short videos
  last 0.3-4 s, subtitle guidelines cap them near 7 s, and probing it costs ~8 small images)
  or captions mixed with empty stretches, which is the failure above.
* *overruled*: a pair inside the span whose P(change) is ``OVERRULED_P`` (0.8) or more, which
  the decoder outvoted with the "same" readings around it: caption-free frames over scene text
  read "same" for a second or more after a caption's sure end. Checked like a long span.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Sequence

import numpy as np
import torch

from gpu_kernels.band import Band
from gpu_kernels.extents.base import BACKWARD_OF, DIFFERENT, EMPTY_EMPTY, EMPTY_VALID, SAME, VALID_EMPTY, PairProbs
from gpu_kernels.median import median_frame
from gpu_kernels.text import edit_distance, normalise

from .chunks import ChunkReader
from .crop_infer import CaptionExtent, grid_seconds
from .errors import Fatal
from .ocr import OcrEngine, join_lines
from .scene_text import without_scene_text
from .types import HESITATION_SCORE, PROBED_SCORE

log = logging.getLogger(__name__)

UNSURE_P = 0.7  # a pair whose decoded reading has less probability than this is unsure
UNSURE_RUN = 5  # consecutive unsure pairs (0.5 s, the probe spacing) that make a span unsure
LONG_S = 4.0  # spans longer than this are checked even when the model was sure
OVERRULED_P = 0.8  # a change read this surely inside a span the decoder kept whole
PROBE_STEP = 5  # 10 Hz frames between probes: 0.5 s
PROBE_FRAMES = 3  # frames per probe median: a caption on 2 of 3 frames survives the median
SAME_TEXT = 0.2  # normalised edit distance up to which two probe texts are one caption
STABLE_PROBES = 2  # probes in a row that must read one text for it to be a caption
CUT_SAME_TEXT = 0.3  # a single frame read near a cut shows the caption within this distance
PART_READ, PART_MIN = 0.8, 0.5  # see _same
INSIDE_MIN = 4  # see _inside: shorter readings are as likely a sign's word as a caption
RECURRING_PROBES = 4  # a line read by this many probes of a region ...
RECURRING_CONTEXTS = 3  # ... beside this many different other readings is the scene's
RECURRING_MAX_CHARS = 6  # ... if it is this short: a glyph, a block's letters, a short logo
PROBE_BATCHES = 8  # probes per recognize_batch call, in the engine's batch sizes
# Gaps (no caption decoded) are probed too where the layout step's OCR read caption text that no
# span covers: all of a region's gaps once this share of its text sightings was missed (the
# model is blind to these captions: white text on a bright floor, say), else the gaps holding one.
BLIND_SHARE = 0.25
MIN_GAP = PROBE_FRAMES + 1  # 10 Hz frames: shorter gaps cannot hold a probe
# A cue shorter than the layout's sampling step (0.5 s) is seen by neither the layout OCR nor,
# on a bright background, the model: all it leaves is a brief hesitation in a caption-free
# stretch. Runs of up to DIP_PAIRS pairs outside every span whose P(empty_empty) is under DIP_P
# are probed once each (a handful per minute of busy video; longer hesitations are motion, and a
# caption that long is sampled by the layout step). A glyph read alone there is texture: a cue
# found this way needs DIP_MIN_CHARS letters, digits or CJK characters.
DIP_P = 0.9
DIP_PAIRS = PROBE_STEP
DIP_MIN_CHARS = 2
# Within this many frames of a span the model hesitates at every caption's own shoulders (fades,
# anti-aliased edges coming and going): 72 such runs on the 10-min bench clip, none a cue. A
# hesitation that close is not probed.
DIP_MARGIN = 3


@dataclass
class CheckStats:
    """What one :func:`check_extents` call did (also logged)."""

    spans: int = 0
    checked: int = 0  # spans probed
    unsure: int = 0  # of which the model was unsure
    long: int = 0  # of which were long (and not unsure)
    probes: int = 0  # probe images OCR'd
    dropped: int = 0  # spans with no text anywhere, removed
    split: int = 0  # spans cut into more than one caption
    trimmed: int = 0  # spans that lost caption-free stretches
    missed: int = 0  # frames where the layout OCR read text that no span covered
    gaps: int = 0  # gaps between spans probed because of them
    dips: int = 0  # brief hesitations of the model outside every span, probed
    ocr_seconds: float = 0.0
    seconds: float = 0.0  # reading frames + medians + OCR
    texts: list = field(default_factory=list)  # (span start, [(probe frame, text)]) per span


# --- the model's readings --------------------------------------------------------------------


def _averaged(probs: PairProbs) -> np.ndarray:
    """(P, 5) forward-orientation probabilities, forward and backward readings averaged."""
    return 0.5 * (probs.forward + probs.backward[:, BACKWARD_OF])


def _change(avg: np.ndarray) -> np.ndarray:
    """P(something changed) per pair: a caption appeared, ended or was replaced."""
    return avg[:, DIFFERENT] + avg[:, EMPTY_VALID] + avg[:, VALID_EMPTY]


def _readings(avg: np.ndarray, change: np.ndarray, ext: CaptionExtent) -> np.ndarray:
    """The probability the model gave what the decoder made of each of the span's pairs, in
    order: P(change) on the pair that opens it, P(same) inside, P(change) on the one closing it."""
    s, e, p = ext.start_frame, ext.end_frame, len(avg)
    parts = [change[s - 1 : s]] if 0 <= s - 1 < p else []
    parts.append(avg[s : max(s, min(e - 1, p)), SAME])
    if 0 <= e - 1 < p:
        parts.append(change[e - 1 : e])
    return np.concatenate(parts) if parts else np.zeros(0)


def unsure_run(avg: np.ndarray, change: np.ndarray, ext: CaptionExtent) -> tuple[int, int]:
    """(longest run of consecutive unsure pairs, pairs considered) for the span."""
    unsure = _readings(avg, change, ext) < UNSURE_P
    best = cur = 0
    for u in unsure:
        cur = cur + 1 if u else 0
        best = max(best, cur)
    return best, len(unsure)


def is_unsure(avg: np.ndarray, change: np.ndarray, ext: CaptionExtent) -> bool:
    """``UNSURE_RUN`` consecutive unsure pairs in the span (all of them, in a shorter span)."""
    run, considered = unsure_run(avg, change, ext)
    return considered > 0 and run >= min(UNSURE_RUN, considered)


def overruled(change: np.ndarray, ext: CaptionExtent) -> bool:
    """The model read a change inside the span (``OVERRULED_P`` or surer) that the decoder
    overruled: a caption ending or starting beside frames the model calls "same" on both sides.
    Caption-free frames over scene text (letter blocks, station signs in the band) read as
    "same", and a caption's sure end 1.3 s before the next one then lost to them."""
    inside = change[max(0, ext.start_frame) : max(0, min(ext.end_frame - 1, len(change)))]
    return bool(inside.size) and float(inside.max()) >= OVERRULED_P


def _span_score(avg: np.ndarray, start: int, end: int) -> float:
    """The decoder's score of [start, end): mean log P(same) of the pairs inside (0 for one
    frame), as :func:`gpu_kernels.extents.decode.decode_intervals` reports it."""
    inside = avg[start : max(start, min(end - 1, len(avg))), SAME]
    return float(np.log(np.clip(inside, 1e-6, 1.0)).mean()) if inside.size else 0.0


# --- texts -----------------------------------------------------------------------------------


def text_distance(a: str, b: str) -> float:
    """Levenshtein distance over the longer length: 0 equal, 1 nothing in common."""
    if a == b:
        return 0.0
    if not a or not b:
        return 1.0
    return edit_distance(a, b) / max(len(a), len(b))


def _same(a: str, b: str, distance: float = SAME_TEXT) -> bool:
    """Two probe readings (lines separated by newlines) of one caption: both empty, or similar
    texts; or one of them read in part (a word lost to the background at a fade or a bright
    patch: ``PART_READ`` of its letters are the other's, in order, and it has at least
    ``PART_MIN`` of the other's length); or one of them is a line of the other (``_inside``)."""
    if not a or not b:
        return a == b
    if _inside(a, b, distance) or _inside(b, a, distance):
        return True
    a, b = a.replace("\n", ""), b.replace("\n", "")
    if text_distance(a, b) <= distance:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) < 4 or len(short) < PART_MIN * len(long_):
        return False
    from difflib import SequenceMatcher

    matched = sum(m.size for m in SequenceMatcher(None, short, long_, autojunk=False).get_matching_blocks())
    return matched >= PART_READ * len(short)


def _inside(a: str, b: str, distance: float) -> bool:
    """``a`` (all of it, ``INSIDE_MIN`` letters or more) is the longest line of ``b``, which
    has other lines: the caption read with lines of the scene above or below it, which come and
    go with the shots a caption stays over (a station sign in one shot of an edit). The longest
    line only: the sign's word read alone, where the caption has gone, is not the caption."""
    lines = b.split("\n")
    a = a.replace("\n", "")
    return len(lines) > 1 and len(a) >= INSIDE_MIN and text_distance(a, max(lines, key=len)) <= distance


def _recurring_lines(texts: Sequence[str]) -> set[str]:
    """Lines of the probe readings that are the scene's: read in ``RECURRING_PROBES`` probes or
    more, beside ``RECURRING_CONTEXTS`` different other readings or more (alone, and next to
    several captions: a letter block or a logo in the band read as a glyph or a word). A
    caption's line comes with its own other lines only (and alone where those were missed).
    Only short lines (``RECURRING_MAX_CHARS``) qualify: a caption held for 2.5 s over a sign
    reads beside a different garbled piece of the sign in every other probe, and a layout
    scene text (a URL, a station name) is removed before this by ``scene``."""
    seen: dict[str, set[str]] = {}
    count: dict[str, int] = {}
    for t in texts:
        lines = [normalise(x) for x in t.splitlines()]
        for line in set(filter(None, lines)):
            count[line] = count.get(line, 0) + 1
        for k, line in enumerate(lines):
            if line:
                seen.setdefault(line, set()).add("".join(lines[:k] + lines[k + 1 :]))
    return {line for line, ctx in seen.items()
            if len(ctx) >= RECURRING_CONTEXTS and count[line] >= RECURRING_PROBES
            and len(line) <= RECURRING_MAX_CHARS}


def _without_lines(text: str, drop: set[str]) -> str:
    """The reading's lines, normalised, without those in ``drop``, one per line."""
    return "\n".join(x for x in (normalise(line) for line in text.splitlines()) if x and x not in drop)


# --- probes ----------------------------------------------------------------------------------


def probe_centres(start: int, end: int, step: int = PROBE_STEP) -> list[int]:
    """10 Hz frames at which to read [start, end): each probe is the median of its centre and
    the frames either side, so the first probe reads [start, start+3), the last ends at end;
    evenly spread, at most ``step`` frames apart."""
    first, last = start + 1, end - 2
    if last <= first:
        return [(start + end - 1) // 2]
    n = -(-(last - first) // step) + 1
    return sorted({int(round(first + k * (last - first) / (n - 1))) for k in range(n)})


def _probe_image(reader: ChunkReader, centre: int, start: int, end: int, device) -> np.ndarray:
    half = PROBE_FRAMES // 2
    a, b = max(start, centre - half), min(end, centre + half + 1)
    _, frames = reader.frames(a, b, want=b - a, fmt="yuv420p")
    return Band(median_frame(frames, device, max_frames=PROBE_FRAMES), "yuv420p").rgb()


# --- cutting a span --------------------------------------------------------------------------


def _smooth(labels: list[str]) -> list[str]:
    """One probe that disagrees with two neighbours reading the same text is OCR noise (a
    missed or garbled reading), not a caption shown for under a second between two showings of
    another. Text read once between two empty probes stays: a short caption looks like that."""
    out = list(labels)
    for i in range(1, len(labels) - 1):
        a, b, c = labels[i - 1], labels[i], labels[i + 1]
        if a and _same(a, c) and not _same(a, b):
            out[i] = a
    return out


def _groups(labels: list[str]) -> list[tuple[int, int, bool]]:
    """Runs of probes [i, j) reading one caption (or nothing): (i, j, has_text)."""
    groups: list[tuple[int, int, bool]] = []
    seen: list[str] = []  # the texts of the current run
    for i, t in enumerate(labels):
        if groups and (any(_same(s, t) for s in seen) if t else not groups[-1][2]):
            i0, _, has = groups[-1]
            groups[-1] = (i0, i + 1, has)
            if t:
                seen.append(t)
        else:
            groups.append((i, i + 1, bool(t)))
            seen = [t] if t else []
    return groups


def _cut(change: np.ndarray, left: int, right: int) -> int:
    """First frame of the new part when the reading changes between probe centres ``left`` and
    ``right``: the frame b in (left, right] after the pair (b-1, b) the model most believes
    changed, the middle one among equals."""
    cand = np.arange(left + 1, right + 1)
    pairs = np.clip(cand - 1, 0, len(change) - 1)
    score = np.round(change[pairs], 2) if len(change) else np.zeros(len(cand))
    mid = 0.5 * (left + right + 1)
    best = max(range(len(cand)), key=lambda i: (score[i], -abs(cand[i] - mid)))
    return int(cand[best])


def _split(ext: CaptionExtent, centres: list[int], labels: list[str], avg: np.ndarray,
           change: np.ndarray, duration: float, stable: int = 1,
           cuts: list | None = None) -> list[CaptionExtent]:
    """The span's captions from its probe readings (see the module docstring). ``cuts``, if
    given, gets one :class:`_Cut` per boundary placed between two probes."""
    labels = _smooth(labels)
    groups = _groups(labels)
    if len(groups) == 1 and groups[0][2]:
        return [ext]  # one caption throughout: untouched
    # In a span the model hesitated over, a text seen by one probe only is scene text passing
    # by (camera motion over signs or printed letters reads differently every 0.5 s): there
    # a caption must hold for ``stable`` probes. A gap is probed only where the layout's OCR
    # saw caption text the model missed; one probe's reading is kept there (a 0.5-s caption).
    groups = [(i, j, has and j - i >= stable) for i, j, has in groups]
    out = []
    for gi, (i, j, has_text) in enumerate(groups):
        if not has_text:
            continue
        start = ext.start_frame if gi == 0 else _cut(change, centres[i - 1], centres[i])
        end = ext.end_frame if gi == len(groups) - 1 else _cut(change, centres[j - 1], centres[j])
        if end <= start:
            continue
        if cuts is not None:
            if gi:
                cuts.append(_Cut(len(out), "start", centres[i - 1], centres[i], labels[i]))
            if gi < len(groups) - 1:
                cuts.append(_Cut(len(out), "end", centres[j - 1], centres[j], labels[j - 1]))
        gs, ge = grid_seconds(start, end, duration)
        keep_s, keep_e = start == ext.start_frame, end == ext.end_frame
        a = ext.start_time if keep_s else gs
        b = ext.end_time if keep_e else ge
        out.append(replace(
            ext, start_frame=start, end_frame=end, start_time=a, end_time=b if b > a else round(a + 0.05, 3),
            score=ext.score if keep_s and keep_e else _span_score(avg, start, end),
            refined=ext.refined and keep_s and keep_e))
    return out


# --- placing a cut by OCR --------------------------------------------------------------------


@dataclass
class _Cut:
    """A boundary of part ``part`` of a span, between probe centres ``lo`` and ``hi``, where
    the caption reading ``text`` starts (shown at ``hi``, not at ``lo``) or ends (shown at
    ``lo``, not at ``hi``)."""

    part: int
    side: str  # "start" | "end"
    lo: int
    hi: int
    text: str

    def frame(self) -> int:
        """The first frame of the part (start) or the first after it (end): ``hi``."""
        return self.hi


def _moved(parts: list[CaptionExtent], cuts: list[_Cut], avg: np.ndarray, duration: float
           ) -> list[CaptionExtent]:
    """The parts with their cuts where the search put them (grid times)."""
    parts = list(parts)
    for c in cuts:
        p = parts[c.part]
        start, end = (c.frame(), p.end_frame) if c.side == "start" else (p.start_frame, c.frame())
        if end <= start:
            continue
        gs, ge = grid_seconds(start, end, duration)
        parts[c.part] = replace(p, start_frame=start, end_frame=end,
                                start_time=gs if c.side == "start" else p.start_time,
                                end_time=ge if c.side == "end" else p.end_time,
                                score=_span_score(avg, start, end), refined=False)
    return parts


def _search_cuts(reader: ChunkReader, ocr_read, cuts: list[_Cut], device, drop: set[str]) -> None:
    """Narrow every cut to one 10 Hz frame by bisection, reading single frames (all cuts'
    frames of one step in one batch): the model's change probability places a cut only where
    the model saw the change, and on a caption it was blind to (the gaps) that is nowhere.
    About log2(PROBE_STEP) = 3 reads per cut."""
    while True:
        todo = [c for c in cuts if c.hi - c.lo > 1]
        if not todo:
            return
        mids = [(c.lo + c.hi) // 2 for c in todo]
        images = []
        for m in mids:
            _, frames = reader.frames(m, m + 1, want=1, fmt="yuv420p")
            images.append(Band(median_frame(frames, device, max_frames=1), "yuv420p").rgb())
        for c, m, t in zip(todo, mids, ocr_read(images)):
            t = _without_lines(t, drop)
            shown = bool(t) and _same(t, c.text, CUT_SAME_TEXT)
            if shown == (c.side == "start"):
                c.hi = m
            else:
                c.lo = m


# --- the check -------------------------------------------------------------------------------


def _gap_spans(extents: list[CaptionExtent], evidence: Sequence[int], n_frames: int, duration: float,
               st: CheckStats) -> list[CaptionExtent]:
    """Pseudo-spans over the gaps between ``extents`` to probe: those holding a frame where the
    layout OCR read text that no span covers, or every gap once the model missed
    ``BLIND_SHARE`` of those sightings."""
    covered = np.zeros(n_frames + 1, bool)
    for e in extents:
        covered[max(0, e.start_frame - 1) : min(n_frames, e.end_frame + 1)] = True
    seen = sorted({f for f in evidence if 0 <= f < n_frames})
    missed = [f for f in seen if not covered[f]]
    st.missed = len(missed)
    if not missed:
        return []
    blind = len(missed) >= BLIND_SHARE * len(seen)
    region = extents[0].region_index if extents else 0
    bounds = [0] + [x for e in extents for x in (e.start_frame, e.end_frame)] + [n_frames]
    out = []
    for a, b in zip(bounds[0::2], bounds[1::2]):
        if b - a >= MIN_GAP and (blind or any(a <= f < b for f in missed)):
            gs, ge = grid_seconds(a, b, duration)
            out.append(CaptionExtent(a, b, gs, ge, PROBED_SCORE, False, region))
    st.gaps = len(out)
    return out


def _dip_spans(avg: np.ndarray, spans: list[CaptionExtent], n_frames: int, duration: float,
               st: CheckStats) -> list[CaptionExtent]:
    """Pseudo-spans over the model's brief hesitations outside ``spans`` (see ``DIP_P``): a
    run of at most ``DIP_PAIRS`` pairs whose P(empty_empty) is under ``DIP_P``, both frames of
    each pair at least ``DIP_MARGIN`` frames away from every span; the pseudo-span holds the
    run's frames."""
    free = np.ones(n_frames, bool)
    for e in spans:
        free[max(0, e.start_frame - DIP_MARGIN) : min(n_frames, e.end_frame + DIP_MARGIN)] = False
    pairs = min(len(avg), n_frames - 1)
    low = [k for k in range(pairs) if avg[k, EMPTY_EMPTY] < DIP_P and free[k] and free[k + 1]]
    runs: list[list[int]] = []
    for k in low:
        if runs and k == runs[-1][1] + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    region = spans[0].region_index if spans else 0
    out = []
    for a, b in runs:
        if b - a + 1 <= DIP_PAIRS:
            gs, ge = grid_seconds(a, b + 2, duration)
            out.append(CaptionExtent(a, b + 2, gs, ge, HESITATION_SCORE, False, region))
    st.dips = len(out)
    return out


def check_extents(reader: ChunkReader, extents: Sequence[CaptionExtent], probs: PairProbs,
                  ocr: OcrEngine, duration: float, *, device: torch.device | None = None,
                  stats: CheckStats | None = None, evidence: Sequence[int] = (),
                  scene: Sequence[str] = ()) -> list[CaptionExtent]:
    """OCR-check the spans of one region's extents the model was unsure of, or that are long;
    return the extents cut where the text changes, trimmed of caption-free stretches, without
    unsure spans that show no text — in time order, non-overlapping. Spans the model was sure
    of pass through as they are, without OCR.

    ``reader`` reads the region's cropped frames; ``probs`` are its pair probabilities (pair k
    = frames k, k+1); ``duration`` the video's, in seconds (clamps new end times). ``stats``,
    if given, is filled in. ``evidence``: 10 Hz frames where the layout step's OCR read caption
    text inside this region; gaps holding one that no span covers are probed like unsure spans
    (:func:`_gap_spans`), so a caption the model did not see at all is still found. ``scene``:
    the layout's scene texts (:mod:`.scene_text`); a probe reading only those shows no caption.
    """
    t0 = time.monotonic()
    st = stats if stats is not None else CheckStats()
    device = device or torch.device("cpu")
    extents = sorted(extents, key=lambda e: e.start_frame)
    st.spans = len(extents)
    avg = _averaged(probs) if len(probs) else np.zeros((0, 5), np.float32)
    change = _change(avg)
    n_frames = reader.frame_count
    gaps = _gap_spans(extents, evidence, n_frames, duration, st)
    dips = _dip_spans(avg, extents + gaps, n_frames, duration, st)
    dip_ids = {id(d) for d in dips}
    gap_ids = {id(g) for g in gaps} | dip_ids
    extents = sorted(extents + gaps + dips, key=lambda e: e.start_frame)
    plan: list[tuple[CaptionExtent, bool, list[int]]] = []  # (extent, unsure, probe centres)
    texts: list[str] = []
    pending: list[np.ndarray] = []
    # All probes of the video go to the engine together (it montages them), in batches of a few
    # of its own batch sizes: full montages, and memory bounded on a long unsure video.
    flush_at = PROBE_BATCHES * max(1, getattr(ocr, "batch_size", 1))

    def read(images: list[np.ndarray]) -> list[str]:
        t = time.monotonic()
        results = ocr.recognize_batch(images)
        if len(results) != len(images):
            raise Fatal(f"OCR engine returned {len(results)} results for {len(images)} images")
        st.ocr_seconds += time.monotonic() - t
        st.probes += len(images)
        return [join_lines(without_scene_text(boxes, scene))[0] for boxes in results]

    def flush() -> None:
        texts.extend(read(pending))
        pending.clear()

    for ext in extents:
        unsure = id(ext) in gap_ids or is_unsure(avg, change, ext)
        # Long or overruled spans are checked, but one that reads no text is kept (the model was
        # sure of a caption there): the caption OCR decides.
        long = ext.end_time - ext.start_time > LONG_S or overruled(change, ext)
        if not (unsure or long):
            continue
        s, e = max(0, ext.start_frame), min(ext.end_frame, n_frames)
        if e <= s:
            continue
        centres = probe_centres(s, e)
        plan.append((ext, unsure, centres))
        st.checked += 1
        st.unsure += unsure
        st.long += not unsure
        for c in centres:
            pending.append(_probe_image(reader, c, s, e, device))
            if len(pending) >= flush_at:
                flush()
    if pending:
        flush()
    recurring = _recurring_lines(texts)
    replaced: dict[int, list[CaptionExtent]] = {}
    searches: list[tuple[int, list[_Cut]]] = []
    k = 0
    for ext, unsure, centres in plan:
        raw = texts[k : k + len(centres)]
        k += len(centres)
        st.texts.append((ext.start_frame, list(zip(centres, raw))))
        labels = [_without_lines(t, recurring) for t in raw]
        if id(ext) in dip_ids:
            labels = [t if len(t.replace("\n", "")) >= DIP_MIN_CHARS else "" for t in labels]
        if not any(labels):
            if unsure:
                replaced[id(ext)] = []
                st.dropped += 1
            continue  # long but sure, and no text read: the caption OCR decides
        cuts: list[_Cut] = []
        parts = _split(ext, centres, labels, avg, change, duration,
                       1 if id(ext) in gap_ids else STABLE_PROBES, cuts)
        if cuts:
            searches.append((id(ext), cuts))
        replaced[id(ext)] = parts
        if len(parts) > 1:
            st.split += 1
        elif parts and parts[0] is not ext:
            st.trimmed += 1
    _search_cuts(reader, read, [c for _, cuts in searches for c in cuts], device, recurring)
    for key, cuts in searches:
        replaced[key] = _moved(replaced[key], cuts, avg, duration)
    out: list[CaptionExtent] = []
    for ext in extents:
        for part in replaced.get(id(ext), [ext]):
            if out and part.start_frame < out[-1].end_frame:  # never overlap a kept neighbour
                part = replace(part, start_frame=out[-1].end_frame,
                               start_time=max(part.start_time, out[-1].end_time))
                if part.end_frame <= part.start_frame:
                    continue
            out.append(part)
    st.seconds += time.monotonic() - t0
    log.info("extent check: %d of %d spans checked (%d unsure, %d long; %d gaps for %d missed text "
             "sightings; %d brief hesitations), %d probes OCR'd in %.2f s (%.2f s in all): %d split, "
             "%d trimmed, %d dropped",
             st.checked, st.spans, st.unsure, st.long, st.gaps, st.missed, st.dips, st.probes, st.ocr_seconds,
             st.seconds, st.split, st.trimmed, st.dropped)
    return out


def layout_evidence(boxes: Sequence[tuple[int, float, float, float, float, str, float]],
                    region, min_confidence: float = 0.75) -> list[int]:
    """10 Hz frames where the layout step's OCR read text inside ``region`` (a CropRegion).
    ``boxes``: (frame_index, left, top, right, bottom, text, confidence) in fractions, as
    layout.db stores them. A text read in over half of the sampled frames is a watermark or a
    fixed sign, not evidence of a caption."""
    frames_seen = {b[0] for b in boxes}
    inside = [b for b in boxes
              if b[6] >= min_confidence and normalise(b[5])
              and region.crop_top <= (b[2] + b[4]) / 2 <= region.crop_bottom
              and region.crop_left <= (b[1] + b[3]) / 2 <= region.crop_right]
    counts: dict[str, set[int]] = {}
    for b in inside:
        counts.setdefault(normalise(b[5]), set()).add(b[0])
    static = {t for t, f in counts.items() if len(f) > 0.5 * max(1, len(frames_seen))}
    return sorted({b[0] for b in inside if normalise(b[5]) not in static})
