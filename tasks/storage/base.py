"""The storage interface: one key space, two backends (local directory, S3)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from typing import Iterator

from ..errors import InvalidId

CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".webm": "video/webm",
    ".mp4": "video/mp4",
    ".json": "application/json",
    ".gz": "application/gzip",
    ".db": "application/vnd.sqlite3",
    ".srt": "application/x-subrip",
    ".vtt": "text/vtt",
}


def content_type_for(key: str) -> str:
    return CONTENT_TYPES.get(os.path.splitext(key)[1].lower(), "application/octet-stream")


def check_key(key: str) -> str:
    """Defence in depth: keys are built by ``tasks.keys``, but never let a path trick through."""
    if (
        not isinstance(key, str)
        or not key
        or key.startswith("/")
        or "\\" in key
        or "//" in key
        or any(part in ("..", ".") for part in key.split("/"))
        or "\x00" in key
        or ":" in key.split("/")[0]
    ):
        raise InvalidId(f"refusing unsafe storage key {key!r}")
    return key


class Storage(ABC):
    """Objects addressed by key. Every put is all-or-nothing: readers see the old object, the
    whole new one, or nothing — never a partial file."""

    @abstractmethod
    def put_file(self, key: str, path: str | os.PathLike, content_type: str | None = None) -> None: ...

    @abstractmethod
    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    @abstractmethod
    def get_file(self, key: str, path: str | os.PathLike) -> None:
        """Download to ``path``; raises :class:`MissingObject` when absent."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Keys under ``prefix`` (a folder; a trailing slash is implied), sorted."""

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def modified_at(self, key: str) -> float:
        """When ``key`` was last written, in seconds since the epoch (the store's clock);
        raises :class:`MissingObject` when absent."""

    def create_exclusive(self, key: str, data: bytes = b"") -> bool:
        """Create ``key`` only if it does not exist; True when this call created it.

        Backends override this with an atomic primitive; this fallback is check-then-put.
        """
        if self.exists(key):
            return False
        self.put_bytes(key, data)
        return True

    @contextlib.contextmanager
    def open_local(self, key: str, suffix: str = "") -> Iterator[str]:
        """A local file path holding the object for the duration of the block.

        The default downloads to a temp dir; local storage hands out its own file, no copy.
        """
        d = tempfile.mkdtemp(prefix="captionacc-get-")
        try:
            path = os.path.join(d, "object" + suffix)
            self.get_file(key, path)
            yield path
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def put_gzipped(self, key: str, path: str | os.PathLike, content_type: str | None = None) -> None:
        """Gzip a local file (e.g. a SQLite database) and store it under a ``.gz`` key."""
        import gzip

        if not key.endswith(".gz"):
            raise ValueError(f"gzipped objects need a .gz key, got {key!r}")
        d = tempfile.mkdtemp(prefix="captionacc-gz-")
        try:
            gz = os.path.join(d, "object.gz")
            with open(path, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            self.put_file(key, gz, content_type or "application/gzip")
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def get_gunzipped(self, key: str, path: str | os.PathLike) -> None:
        """Fetch a ``.gz`` object and write its decompressed bytes to ``path`` (all or nothing);
        raises :class:`CorruptData` when the object is not valid gzip."""
        import gzip
        import zlib

        from ..errors import CorruptData

        with self.open_local(key, ".gz") as gz:
            fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=os.path.dirname(os.path.abspath(path)))
            try:
                with os.fdopen(fd, "wb") as dst, gzip.open(gz, "rb") as src:
                    shutil.copyfileobj(src, dst, 1 << 20)
                os.replace(tmp, path)
            except (OSError, EOFError, zlib.error) as e:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                if isinstance(e, (gzip.BadGzipFile, EOFError, zlib.error)):
                    raise CorruptData(f"{key} is not a valid gzip file: {e}") from e
                raise

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list(prefix)
        for k in keys:
            self.delete(k)
        return len(keys)

    def close(self) -> None:
        """Release connections; the default holds none."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
