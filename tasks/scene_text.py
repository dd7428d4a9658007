"""Scene text the layout step found (a station sign, a channel logo, a watermark: text read alike
in most sampled frames) is never part of a caption, even where a caption band takes it in.

The layout step records its readings in layout.db (``scene_texts``). Caption OCR and the
extent check's probes drop every OCR line that reads like one of them, so a span showing only
the sign comes out empty (no caption) and a caption drawn over the sign keeps only its own
words. The masking against caption-free neighbours (:mod:`gpu_kernels.textmask`) cannot do this
when the model took the sign itself for a caption: then there is no caption-free neighbour.
"""

from __future__ import annotations

import logging
import sqlite3
from difflib import SequenceMatcher
from typing import Iterable, Sequence

from gpu_kernels.text import bare

from .errors import CorruptData, MissingObject

log = logging.getLogger(__name__)

# A line reads like a scene text when this similar to one of its readings (difflib ratio on
# letters and digits; OCR reads a sign a little differently each time) ...
SIMILAR = 0.6
# ... and not much longer: a caption that names the sign ("下北沢駅に着いた") has more to say.
LONGER = 1.5


def is_scene_text(text: str, scene: Sequence[str]) -> bool:
    mine = bare(text)
    if not mine:
        return False
    for s in scene:
        if not s or len(mine) > LONGER * len(s):
            continue
        m = SequenceMatcher(None, mine, s, autojunk=False)
        # The cheap upper bounds first: a video's captions meet up to 64 scene texts each.
        if m.real_quick_ratio() >= SIMILAR and m.quick_ratio() >= SIMILAR and m.ratio() >= SIMILAR:
            return True
    return False


# A glimpse of a sign cut at the band's edge reads as a fragment of it ("下北新" of "下北沢駅",
# ratio 0.57, under SIMILAR): a line of at least FRAGMENT_MIN letters most of whose letters
# (FRAGMENT) appear in order in a longer scene text. Taken out only beside another line, so a
# caption is never emptied by this looser test.
FRAGMENT = 2 / 3
FRAGMENT_MIN = 3


def is_scene_fragment(text: str, scene: Sequence[str]) -> bool:
    mine = bare(text)
    if len(mine) < FRAGMENT_MIN:
        return False
    for s in scene:
        if len(s) <= len(mine):
            continue
        m = SequenceMatcher(None, mine, s, autojunk=False)
        if sum(b.size for b in m.get_matching_blocks()) >= FRAGMENT * len(mine):
            return True
    return False


def without_scene_text(boxes: Iterable, scene: Sequence[str]) -> list:
    """The OCR boxes (anything with ``.text``) that do not read like scene text, nor like a
    fragment of it beside another line (:func:`is_scene_fragment`)."""
    boxes = list(boxes)
    if not scene:
        return boxes
    kept = [b for b in boxes if not is_scene_text(b.text, scene)]
    if len(kept) > 1:
        fragment = [is_scene_fragment(b.text, scene) for b in kept]
        if not all(fragment):
            kept = [b for b, f in zip(kept, fragment) if not f]
    return kept


def load_scene_texts(storage, layout_db_key: str) -> tuple[str, ...]:
    """The scene texts of a layout.db (bare), none when it has no such table (written before it
    existed) or cannot be read: the filter only sharpens captions, it is never required."""
    from .databases import open_db

    try:
        with open_db(storage, layout_db_key) as conn:
            return scene_texts_of(conn)
    except (MissingObject, CorruptData, sqlite3.DatabaseError) as e:
        log.info("no scene texts from %s (%s)", layout_db_key, e)
        return ()


def scene_texts_of(conn: sqlite3.Connection) -> tuple[str, ...]:
    """The scene texts (bare) of an open layout.db; none when it has no such table."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "scene_texts" not in tables:
        return ()
    rows = conn.execute("SELECT text FROM scene_texts ORDER BY frames DESC").fetchall()
    return tuple(dict.fromkeys(b for b in (bare(r[0]) for r in rows) if b))
