"""The ``videos`` table: each video's processing status and metadata (SQLAlchemy Core).

SQLite by default (``sqlite:///captionacc.db``), PostgreSQL in deployment
(``postgresql+psycopg://user:pass@host/db``), from ``CAPTIONACC_DATABASE_URL`` or ``DATABASE_URL``.
Status goes ``uploaded`` → ``processing`` → ``active``, or ``error`` with the reason in ``error``.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON, CheckConstraint, Column, DateTime, Float, Integer, MetaData, String, Table, Text, create_engine,
    select,
)

STATUSES = ("uploaded", "processing", "active", "error")
TIMEOUT_MESSAGE = "Processing timeout"

metadata = MetaData()

videos = Table(
    "videos",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), nullable=False, index=True),
    Column("storage_key", Text),
    Column("status", String(16), nullable=False, default="uploaded"),
    Column("error", Text),
    Column("stage", String(64)),  # the flow step that set the status
    Column("frame_count", Integer),
    Column("duration_seconds", Float),
    Column("ocr_box_count", Integer),
    Column("crop_left", Float),
    Column("crop_top", Float),
    Column("crop_right", Float),
    Column("crop_bottom", Float),
    Column("cropped_frames_version", Integer),
    Column("caption_count", Integer),
    Column("details", JSON),  # result keys and anything else worth keeping
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("status IN ('uploaded', 'processing', 'active', 'error')", name="videos_status_check"),
)

_COLUMNS = {c.name for c in videos.columns}


def database_url() -> str:
    return os.environ.get("CAPTIONACC_DATABASE_URL") or os.environ.get("DATABASE_URL") or "sqlite:///captionacc.db"


class VideoStore:
    """Reads and writes rows of ``videos``; creates the table if missing."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or database_url()
        self.engine = create_engine(self.url, future=True, pool_pre_ping=True)
        metadata.create_all(self.engine)

    def _upsert(self, conn, row: dict[str, Any]) -> None:
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif self.engine.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - portable fallback
            exists = conn.execute(select(videos.c.id).where(videos.c.id == row["id"])).first()
            if exists:
                update = {k: v for k, v in row.items() if k not in ("id", "created_at")}
                conn.execute(videos.update().where(videos.c.id == row["id"]).values(**update))
            else:
                conn.execute(videos.insert().values(**row))
            return
        stmt = insert(videos).values(**row)
        update = {k: stmt.excluded[k] for k in row if k not in ("id", "created_at")}
        conn.execute(stmt.on_conflict_do_update(index_elements=[videos.c.id], set_=update))

    def upsert(self, video_id: str, tenant_id: str, **fields: Any) -> None:
        unknown = set(fields) - _COLUMNS
        if unknown:
            raise ValueError(f"unknown videos columns {sorted(unknown)}")
        if "status" in fields and fields["status"] not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {fields['status']!r}")
        now = datetime.now(timezone.utc)
        row = dict(id=video_id, tenant_id=tenant_id, created_at=now, updated_at=now, **fields)
        if row.get("status") is None:  # keep the current status (a new row gets the default)
            row.pop("status", None)
        with self.engine.begin() as conn:
            self._upsert(conn, row)

    def set_status(self, video_id: str, tenant_id: str, status: str, error: str | None = None,
                   **fields: Any) -> None:
        self.upsert(video_id, tenant_id, status=status, error=error, **fields)

    def get(self, video_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(videos).where(videos.c.id == video_id)).mappings().first()
        return dict(row) if row else None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
