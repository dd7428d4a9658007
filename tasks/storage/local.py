"""LocalStorage: a directory with the same key layout as the bucket."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator

from ..errors import InvalidId, MissingObject
from .base import Storage, check_key


class LocalStorage(Storage):
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = os.path.abspath(os.fspath(root))
        os.makedirs(self.root, exist_ok=True)
        self._real_root = os.path.realpath(self.root)

    def path(self, key: str) -> str:
        """The file of ``key``; refuses a key that resolves outside the root (a symlinked
        folder inside the tree must not let one tenant's key land in another place)."""
        path = os.path.join(self.root, *check_key(key).split("/"))
        real = os.path.realpath(path)
        if real != self._real_root and not real.startswith(self._real_root + os.sep):
            raise InvalidId(f"storage key {key!r} resolves outside the storage root")
        return path

    def _atomic_write(self, key: str, writer) -> None:
        dest = self.path(key)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        # Write beside the destination, then rename: a crash leaves no half-written object.
        fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=os.path.dirname(dest))
        try:
            with os.fdopen(fd, "wb") as f:
                writer(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def put_file(self, key, path, content_type=None) -> None:
        def copy(f):
            with open(path, "rb") as src:
                shutil.copyfileobj(src, f, 1 << 20)

        self._atomic_write(key, copy)

    def put_bytes(self, key, data, content_type=None) -> None:
        self._atomic_write(key, lambda f: f.write(data))

    def get_file(self, key, path) -> None:
        src = self.path(key)
        if not os.path.isfile(src):
            raise MissingObject(f"no object at {key}")
        shutil.copyfile(src, path)

    def get_bytes(self, key) -> bytes:
        src = self.path(key)
        if not os.path.isfile(src):
            raise MissingObject(f"no object at {key}")
        with open(src, "rb") as f:
            return f.read()

    def create_exclusive(self, key: str, data: bytes = b"") -> bool:
        dest = self.path(key)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        try:
            fd = os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)  # atomic on POSIX
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return True

    @contextlib.contextmanager
    def open_local(self, key: str, suffix: str = "") -> Iterator[str]:
        path = self.path(key)
        if not os.path.isfile(path):
            raise MissingObject(f"no object at {key}")
        yield path

    def exists(self, key) -> bool:
        return os.path.isfile(self.path(key))

    def modified_at(self, key) -> float:
        try:
            return os.stat(self.path(key)).st_mtime
        except FileNotFoundError as e:
            raise MissingObject(f"no object at {key}") from e

    def list(self, prefix) -> list[str]:
        base = self.path(prefix.rstrip("/"))
        out = []
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.startswith(".partial-"):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), self.root)
                out.append(rel.replace(os.sep, "/"))
        return sorted(out)

    def delete(self, key) -> None:
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            pass
