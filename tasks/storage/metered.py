"""A job's writes, counted: over ``Limits.max_output_bytes`` the job stops with InputTooLarge.

Other limits bound a video's frames; this bounds what they cost in storage, which a crafted
file (noise that VP9 cannot compress, frames JPEG cannot) can still blow up.
"""

from __future__ import annotations

import os
import threading

from gpu_kernels.errors import InputTooLarge


class MeteredStorage:
    """``storage``'s interface; ``put_*`` count their bytes first and refuse the write that
    would go over ``limit`` (so what was written stays under it)."""

    def __init__(self, storage, limit: int, name: str) -> None:
        self._inner = storage
        self._limit = limit
        self._name = name
        self._lock = threading.Lock()  # crop-and-infer writes each region's chunks from its own thread
        self.written = 0

    def _count(self, n: int) -> None:
        with self._lock:
            if self.written + n > self._limit:
                raise InputTooLarge(f"{self._name}: outputs would exceed the limit of {self._limit:,} bytes per "
                                    f"job (CAPTIONACC_MAX_OUTPUT_BYTES)")
            self.written += n

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self._count(len(data))
        self._inner.put_bytes(key, data, content_type)

    def put_file(self, key: str, path, content_type: str | None = None) -> None:
        self._count(os.path.getsize(path))
        self._inner.put_file(key, path, content_type)

    def put_gzipped(self, key: str, path, content_type: str | None = None) -> None:
        self._count(os.path.getsize(path))  # before compression: an upper bound
        self._inner.put_gzipped(key, path, content_type)

    def __getattr__(self, attr: str):
        return getattr(self._inner, attr)
