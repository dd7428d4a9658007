"""``--lang auto`` across jobs: the extract job detects the caption language and records it in
layout.db (metadata ``caption_language``); later jobs of the video run with ``auto`` read it
there, so every job of one video reads with the same recogniser."""

from __future__ import annotations

import logging

from .context import JobContext
from .databases import open_db
from .errors import MissingObject

log = logging.getLogger(__name__)


def settle_language(ctx: JobContext, layout_db_key: str) -> None:
    """Resolve ``ctx.lang == "auto"`` from the video's layout.db (no-op otherwise). A layout.db
    without the record (written before auto, or absent) leaves the default recogniser."""
    if not ctx.auto_language or ctx.language_settled_by(layout_db_key):
        return  # a named language, or this video's verdict already in force (one read per video)
    lang = ""
    try:
        with open_db(ctx.storage, layout_db_key) as conn:
            row = conn.execute("SELECT value FROM metadata WHERE key = 'caption_language'").fetchone()
        lang = row[0] if row else ""
    except MissingObject:
        log.warning("no layout.db at %s: --lang auto reads with the default recogniser", layout_db_key)
    ctx.resolve_language(lang, layout_db_key)
