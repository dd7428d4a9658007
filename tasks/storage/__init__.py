"""Storage backends behind one interface; ``open_storage`` picks one from config."""

from __future__ import annotations

import os

from .base import Storage, check_key, content_type_for
from .local import LocalStorage

__all__ = ["Storage", "LocalStorage", "open_storage", "check_key", "content_type_for"]


def open_storage(kind: str | None = None, root: str | None = None) -> Storage:
    """``local`` (a directory; the embedded default) or ``s3`` (settings from the environment).

    S3 reads ``WASABI_BUCKET``, ``WASABI_ACCESS_KEY``, ``WASABI_SECRET_KEY``, ``WASABI_REGION``
    and ``S3_ENDPOINT_URL`` (for Wasabi, SeaweedFS or MinIO).
    """
    kind = (kind or os.environ.get("CAPTIONACC_STORAGE") or "local").lower()
    if kind == "local":
        return LocalStorage(root or os.environ.get("CAPTIONACC_STORAGE_ROOT") or "./captionacc-data")
    if kind == "s3":
        from .s3 import S3Storage

        bucket = os.environ.get("WASABI_BUCKET")
        if not bucket:
            raise ValueError("S3 storage needs WASABI_BUCKET")
        return S3Storage(
            bucket=bucket,
            endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
            access_key=os.environ.get("WASABI_ACCESS_KEY"),
            secret_key=os.environ.get("WASABI_SECRET_KEY"),
            region=os.environ.get("WASABI_REGION"),
        )
    raise ValueError(f"unknown storage {kind!r}; expected local or s3")
