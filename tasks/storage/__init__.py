"""Storage backends behind one interface; ``open_storage`` picks one from config."""

from __future__ import annotations

from .base import Storage, check_key, content_type_for
from .local import LocalStorage

__all__ = ["Storage", "LocalStorage", "open_storage", "check_key", "content_type_for"]


def open_storage(kind: str | None = None, root: str | None = None, settings=None) -> Storage:
    """``local`` (a directory; the embedded default) or ``s3`` (Wasabi, SeaweedFS, MinIO).

    Settings come from :class:`tasks.settings.Settings` (environment and ``.env``): S3 reads
    ``WASABI_BUCKET``, ``WASABI_ACCESS_KEY``, ``WASABI_SECRET_KEY``, ``WASABI_REGION`` and
    ``S3_ENDPOINT_URL`` (unset: Wasabi's endpoint for the region).
    """
    from ..settings import Settings

    s = settings or Settings()
    kind = (kind or s.storage).lower()
    if kind == "local":
        return LocalStorage(root or s.storage_root)
    if kind == "s3":
        from .s3 import S3Storage

        return S3Storage.from_settings(s)
    raise ValueError(f"unknown storage {kind!r}; expected local or s3")
