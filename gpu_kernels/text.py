"""Text compared the way OCR readings of one caption or sign agree: letters and digits only."""

from __future__ import annotations

import unicodedata


def bare(text: str) -> str:
    """Lower-cased letters, digits and CJK characters: what spacing, punctuation and line
    breaks, which OCR reads differently each time, leave alone."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def normalise(text: str) -> str:
    """:func:`bare` after NFKC and case folding (full-width letters and digits read as ASCII),
    for readings by different means (a median and a single frame) of one caption."""
    return bare(unicodedata.normalize("NFKC", text).casefold())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions of single characters."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def common_subsequence(a: str, b: str) -> int:
    """Length of the longest common subsequence of ``a`` and ``b`` (characters in order, not
    necessarily adjacent): how much of a garbled reading survives in a clean one."""
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b):
            cur.append(prev[j] + 1 if ca == cb else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]
