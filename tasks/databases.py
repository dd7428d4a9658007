"""SQLite databases the web client reads. The schemas here are contracts: change them only
with a migration."""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import sqlite3
import tempfile
import zlib
from typing import Iterator

from .errors import CorruptData
from .storage import Storage

RAW_OCR_SCHEMA = """
CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE frames (
    frame_index INTEGER PRIMARY KEY,   -- 10 Hz index: round(seconds * 10)
    time_seconds REAL NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL
);
CREATE TABLE full_frame_ocr (
    id INTEGER PRIMARY KEY,
    frame_index INTEGER NOT NULL,
    box_index INTEGER NOT NULL,
    text TEXT NOT NULL,
    confidence REAL NOT NULL,
    x REAL NOT NULL,          -- pixels, top-left origin
    y REAL NOT NULL,
    width REAL NOT NULL,
    height REAL NOT NULL,
    UNIQUE (frame_index, box_index)
);
"""

LAYOUT_SCHEMA = """
CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE boxes (
    id INTEGER PRIMARY KEY,
    frame_index INTEGER NOT NULL,
    box_index INTEGER NOT NULL,
    bbox_left REAL NOT NULL,   -- fractions of the frame, top-left origin
    bbox_top REAL NOT NULL,
    bbox_right REAL NOT NULL,
    bbox_bottom REAL NOT NULL,
    text TEXT NOT NULL,
    confidence REAL NOT NULL,
    in_caption_band INTEGER NOT NULL DEFAULT 0,
    UNIQUE (frame_index, box_index)
);
CREATE TABLE layout_config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    frame_width INTEGER NOT NULL,
    frame_height INTEGER NOT NULL,
    crop_left REAL NOT NULL,
    crop_top REAL NOT NULL,
    crop_right REAL NOT NULL,
    crop_bottom REAL NOT NULL,
    anchor_type TEXT NOT NULL,
    anchor_position REAL NOT NULL,
    vertical_center REAL NOT NULL,
    box_height REAL NOT NULL,
    frames_with_text INTEGER NOT NULL,
    confidence REAL NOT NULL,
    source TEXT NOT NULL        -- 'suggested' by us, or 'user' once edited
);
CREATE TABLE layout_regions (   -- every caption region found; region 0 is layout_config's
    region_index INTEGER PRIMARY KEY,
    crop_left REAL NOT NULL,
    crop_top REAL NOT NULL,
    crop_right REAL NOT NULL,
    crop_bottom REAL NOT NULL,
    anchor_type TEXT NOT NULL,
    anchor_position REAL NOT NULL,
    vertical_center REAL NOT NULL,
    box_height REAL NOT NULL,
    frames_with_text INTEGER NOT NULL,
    confidence REAL NOT NULL
);
CREATE TABLE scene_texts (      -- readings of signs/logos/watermarks: never a caption's text
    text TEXT PRIMARY KEY,
    frames INTEGER NOT NULL     -- sampled frames it was read in
);
CREATE TABLE preferences (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    layout_approved INTEGER NOT NULL DEFAULT 0
);
"""

_PROB_COLS = ", ".join(
    f"{d}_prob_{c} REAL NOT NULL"
    for d in ("forward", "backward")
    for c in ("same", "different", "empty_empty", "empty_valid", "valid_empty")
)
EXTENTS_SCHEMA = f"""
CREATE TABLE run_metadata (
    run_id TEXT PRIMARY KEY,
    model_version TEXT NOT NULL,
    cropped_frames_version INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    completed_at TEXT NOT NULL,
    total_pairs INTEGER NOT NULL,
    processing_time_seconds REAL NOT NULL,
    frame_count INTEGER NOT NULL,
    frame_rate REAL NOT NULL,
    device TEXT NOT NULL,
    crop_left REAL NOT NULL, crop_top REAL NOT NULL, crop_right REAL NOT NULL, crop_bottom REAL NOT NULL
);
CREATE TABLE pair_results (
    id INTEGER PRIMARY KEY,
    frame1_index INTEGER NOT NULL,
    frame2_index INTEGER NOT NULL,
    forward_predicted_label TEXT NOT NULL,
    forward_confidence REAL NOT NULL,
    backward_predicted_label TEXT NOT NULL,
    backward_confidence REAL NOT NULL,
    {_PROB_COLS},
    UNIQUE (frame1_index, frame2_index)
);
CREATE TABLE caption_extents (          -- pair_results decoded (Viterbi) into captions
    id INTEGER PRIMARY KEY,
    start_frame_index INTEGER NOT NULL, -- 10 Hz index, inclusive
    end_frame_index INTEGER NOT NULL,   -- 10 Hz index, exclusive
    start_time REAL NOT NULL,           -- seconds: the first source frame showing the caption
    end_time REAL NOT NULL,             -- seconds: the first source frame without it
    score REAL NOT NULL,
    refined INTEGER NOT NULL,           -- 1: times exact to a source frame; 0: grid midpoints
    region_index INTEGER DEFAULT 0      -- regions.region_index; NULL in older databases means 0
);
CREATE TABLE regions (                  -- every caption region cropped in the one decode pass
    region_index INTEGER PRIMARY KEY,   -- 0: the primary region (pair_results, run_metadata)
    crop_left REAL NOT NULL, crop_top REAL NOT NULL, crop_right REAL NOT NULL, crop_bottom REAL NOT NULL,
    cropped_frames_version INTEGER NOT NULL
);
CREATE TABLE region_pair_results (      -- pair_results of regions 1, 2, ...
    id INTEGER PRIMARY KEY,
    region_index INTEGER NOT NULL,
    frame1_index INTEGER NOT NULL,
    frame2_index INTEGER NOT NULL,
    forward_predicted_label TEXT NOT NULL,
    forward_confidence REAL NOT NULL,
    backward_predicted_label TEXT NOT NULL,
    backward_confidence REAL NOT NULL,
    {_PROB_COLS},
    UNIQUE (region_index, frame1_index, frame2_index)
);
"""

CAPTIONS_SCHEMA = """
CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE captions (
    id INTEGER PRIMARY KEY,
    start_frame_index INTEGER NOT NULL,   -- 10 Hz index, inclusive
    end_frame_index INTEGER NOT NULL,     -- 10 Hz index, exclusive
    start_time REAL NOT NULL,             -- seconds
    end_time REAL NOT NULL,
    text TEXT NOT NULL,
    confidence REAL NOT NULL,
    frame_count INTEGER NOT NULL,         -- frames in the OCR median
    region_index INTEGER DEFAULT 0,       -- regions.region_index; NULL in older databases means 0
    CHECK (end_frame_index > start_frame_index)
);
CREATE TABLE regions (                    -- the caption regions the captions were read from
    region_index INTEGER PRIMARY KEY,
    crop_left REAL NOT NULL, crop_top REAL NOT NULL, crop_right REAL NOT NULL, crop_bottom REAL NOT NULL
);
"""


@contextlib.contextmanager
def new_db(schema: str) -> Iterator[tuple[sqlite3.Connection, str]]:
    """A fresh database in a temp dir; yields (connection, path); removed on exit."""
    d = tempfile.mkdtemp(prefix="captionacc-db-")
    path = os.path.join(d, "db.sqlite")
    conn = sqlite3.connect(path)
    try:
        conn.executescript(schema)
        yield conn, path
    finally:
        conn.close()
        shutil.rmtree(d, ignore_errors=True)


def publish_db(conn: sqlite3.Connection, path: str, storage: Storage, key: str) -> None:
    """Commit and upload; ``.gz`` keys are gzip-compressed (and really gzipped)."""
    conn.commit()
    conn.execute("VACUUM")
    conn.close()
    if key.endswith(".gz"):
        gz = path + ".gz"
        with open(path, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
            shutil.copyfileobj(src, dst)
        storage.put_file(key, gz)
    else:
        storage.put_file(key, path)


@contextlib.contextmanager
def open_db(storage: Storage, key: str) -> Iterator[sqlite3.Connection]:
    """Download (and gunzip) a database; raises MissingObject / CorruptData."""
    d = tempfile.mkdtemp(prefix="captionacc-db-")
    try:
        raw = os.path.join(d, "download")
        storage.get_file(key, raw)
        path = raw
        if key.endswith(".gz"):
            path = os.path.join(d, "db.sqlite")
            try:
                with gzip.open(raw, "rb") as src, open(path, "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except (OSError, EOFError, zlib.error) as e:
                raise CorruptData(f"{key} is not a valid gzip file: {e}") from e
        conn = sqlite3.connect(path)
        try:
            tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' LIMIT 1").fetchall()
        except sqlite3.DatabaseError as e:
            conn.close()
            raise CorruptData(f"{key} is not a valid SQLite database: {e}") from e
        if not tables:  # SQLite opens a zero-byte file as an empty database
            conn.close()
            raise CorruptData(f"{key} is an empty database")
        try:
            yield conn
        finally:
            conn.close()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def set_metadata(conn: sqlite3.Connection, **items) -> None:
    conn.executemany(
        "INSERT OR REPLACE INTO metadata (key, value) VALUES (?, ?)",
        [(k, str(v)) for k, v in items.items()],
    )

