"""One caption the extents model split into pieces that read differently, joined again.

White text with no outline over a bright, moving ground (a hand over a white table) fades into
it frame by frame; the model then sees the caption change several times, and each short piece's
median reads a different garbled text ("Nói thật, tôBi khên-;ngẻ…", "ôi khôn: €'lạÏ…", …), too
far apart for the merge's OCR-noise rule. Their frames together make a median that reads the
caption cleanly (mixed3 benchmark, bright_moving: 0.51-0.67 pieces, 0.95 together). So a run
of short pieces, with the captions beside it, is read once more in spans, and a span is joined
when that reading is at least as sure as each member and holds what its ends and its surely
read members read. Two different captions read together give one of them, or a blend, which
holds the other's text in neither case: they stay apart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from gpu_kernels.text import bare, common_subsequence

from .pipeline import Caption
from .types import CaptionOcrResult

# Pieces up to this far apart (10 Hz frames): the model lost the caption between them for up to
# a second (a piece whose median read nothing is dropped before this step).
REJOIN_GAP_FRAMES = 10
# A caption at most this long (10 Hz frames) may be a piece: split pieces lasted 0.2-0.8 s,
# while captions are shown 1 s and more to be read. Only a run of pieces holding one read
# under WEAK is read again: a short caption read surely is a short caption.
PIECE_FRAMES = 8
WEAK = 0.9
# A reading of LONG_PIECE or more letters belongs to the joined reading when FITS of its letters
# appear in it in order, and it is at least PIECE_SHARE of its length. Neighbouring captions of
# every benchmark script score 0.64 at most; garbled pieces of one caption 0.79-1.0.
LONG_PIECE = 8
FITS = 0.75
PIECE_SHARE = 0.4
# Inside a joined span, a piece read under SURE may hold anything (a median of 2-3 frames over a
# moving ground reads noise: "6ikhôn g¿ tzin" at 0.35); the span's first and last pieces, and
# every piece read surely, must fit the joined reading, so no caption of its own is swallowed.
# A span's first and last pieces are long readings or sure ones (:func:`_edge`).
SURE = 0.8
# Spans tried per run of pieces (longest first): bounds the extra OCR on a run of short captions.
MAX_REREADS = 10

Reread = Callable[[int, int], CaptionOcrResult]


def others(spans, start: int, end: int) -> list:
    """The ``(start, end)`` spans wholly outside frames [start, end): a reread's ``known``
    captions, kept out of its caption-free references."""
    return [r for r in spans if r[1] <= start or r[0] >= end]


def _fits(piece: str, whole: str) -> bool:
    p, w = bare(piece), bare(whole)
    if len(p) < LONG_PIECE:  # too few letters to tell by order: it must be in the whole as read
        return bool(p) and p in w
    return len(p) >= PIECE_SHARE * len(w) and common_subsequence(p, w) >= FITS * len(p)


def _linked(p: Caption, c: Caption) -> bool:
    return p.region_index == c.region_index and 0 <= c.start_frame - p.end_frame <= REJOIN_GAP_FRAMES


def _piece(c: Caption) -> bool:
    return c.end_frame - c.start_frame <= PIECE_FRAMES


def _edge(c: Caption) -> bool:
    """A span ends on a long reading or a sure one: a glyph read unsurely beside a caption
    ("시" at 0.49 as it went) is noise the merge drops, not a piece of it."""
    return len(bare(c.text)) >= LONG_PIECE or c.confidence >= SURE


def _joins(members: list[Caption], r: CaptionOcrResult) -> bool:
    if r.confidence < max(m.confidence for m in members):
        return False
    return all(_fits(m.text, r.ocr_text) for k, m in enumerate(members)
               if k in (0, len(members) - 1) or m.confidence >= SURE)


def _windows(n: int) -> list[tuple[int, int]]:
    """[a, b) spans of 2+ of ``n`` neighbours, longest first."""
    return [(a, a + size) for size in range(n, 1, -1) for a in range(n - size + 1)]


def rejoin_pieces(caps: list[Caption], reread: Reread) -> list[Caption]:
    """``caps`` (one region's, in time order, as read) with split pieces joined: ``reread(start,
    end)`` reads frames [start, end) as one caption. A run of linked pieces, with the caption on
    either side of it, is read in spans, longest first; the first span that joins replaces its
    members. Captions with no text pass through (the merge drops them)."""
    read = [c for c in caps if bare(c.text)]
    out: list[Caption] = []
    i = 0
    while i < len(read):
        if not _piece(read[i]):
            out.append(read[i])
            i += 1
            continue
        j = i + 1
        while j < len(read) and _piece(read[j]) and _linked(read[j - 1], read[j]):
            j += 1
        lo = i - 1 if out and out[-1] is read[i - 1] and _linked(read[i - 1], read[i]) else i
        hi = j + 1 if j < len(read) and _linked(read[j - 1], read[j]) else j
        seq = read[lo:hi]
        joined = None
        if any(c.confidence < WEAK for c in read[i:j]):
            for a, b in _windows(len(seq))[:MAX_REREADS]:
                members = seq[a:b]
                if not any(_piece(m) and m.confidence < WEAK for m in members) or \
                        not (_edge(members[0]) and _edge(members[-1])):
                    continue
                r = reread(members[0].start_frame, members[-1].end_frame)
                if _joins(members, r):
                    joined = (a, b, r)
                    break
        if joined is None:
            out += read[i:j]
            i = j
            continue
        a, b, r = joined
        first, last = seq[a], seq[b - 1]
        if lo < i and a == 0:
            out.pop()  # the caption before the run is the joined span's first member
        else:
            out += seq[max(0, i - lo):a]  # pieces of the run before the span stay as read
        out.append(replace(first, end_frame=last.end_frame, end=last.end, text=r.ocr_text,
                           confidence=r.confidence, frame_count=r.frame_count,
                           probed=all(m.probed for m in seq[a:b])))
        i = lo + b
    return sorted(out + [c for c in caps if not bare(c.text)], key=lambda c: c.start_frame)
