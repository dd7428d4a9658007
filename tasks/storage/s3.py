"""S3Storage on boto3: Wasabi in production, any S3 server (SeaweedFS, MinIO) elsewhere.

- Configured from the environment through :class:`tasks.settings.Settings` (the Modal secret
  ``wasabi``: ``WASABI_ACCESS_KEY``, ``WASABI_SECRET_KEY``, ``WASABI_BUCKET``, ``WASABI_REGION``;
  ``S3_ENDPOINT_URL`` overrides Wasabi's regional endpoint).
- Uploads are all-or-nothing per object: a single PUT or a multipart upload becomes visible only
  when complete, and a failed multipart upload is aborted so no parts linger (and bill).
- Files above ``multipart_threshold`` go up in parallel parts; downloads stream to a temporary
  file beside the target (ranged, parallel for big objects) and are renamed into place.
- Retries: botocore's ``adaptive`` mode (exponential backoff + client-side rate limiting on
  throttling). Errors left after that become ``Transient``; bad credentials, a missing bucket or
  a denied request become ``Fatal``; a missing key becomes ``MissingObject``.
- ``.gz`` keys must hold real gzip data (checked on upload) and are stored as
  ``application/gzip`` *without* ``Content-Encoding``, so no HTTP client silently inflates them.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tempfile
from typing import IO, TYPE_CHECKING, Any

from ..errors import BadInput, Fatal, MissingObject, Transient
from .base import Storage, check_key, content_type_for

if TYPE_CHECKING:
    from ..settings import Settings

MB = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"

_MISSING = {"404", "NoSuchKey", "NotFound"}
_FATAL = {
    "403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket",
    "AccountProblem", "AllAccessDisabled", "InvalidBucketName", "AuthorizationHeaderMalformed",
}
_BAD_INPUT = {"400", "InvalidArgument", "EntityTooLarge", "KeyTooLongError", "InvalidDigest", "BadDigest"}


class S3Storage(Storage):
    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        create_bucket: bool = False,
        *,
        multipart_threshold: int = 16 * MB,
        multipart_chunksize: int = 16 * MB,
        max_concurrency: int = 8,
        max_attempts: int = 8,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
    ) -> None:
        import boto3  # lazy: only S3 users pay for it
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        if not bucket:
            raise ValueError("S3Storage needs a bucket")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.multipart_threshold = multipart_threshold
        self._client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region or "us-east-1",
            config=Config(
                # botocore reads "max_attempts" as retries (N+1 requests); this is requests.
                retries={"total_max_attempts": max_attempts, "mode": "adaptive"},
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                max_pool_connections=max(10, 2 * max_concurrency),
                # boto3 >= 1.36 adds CRC trailers to every upload by default; Wasabi and other
                # S3-compatible servers reject or mangle them. Checksum only where S3 requires.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
            max_concurrency=max_concurrency,
            use_threads=max_concurrency > 1,
        )
        if create_bucket:
            self.ensure_bucket()

    @classmethod
    def from_settings(cls, settings: "Settings | None" = None, **overrides: Any) -> "S3Storage":
        """Build from :class:`tasks.settings.Settings` (read from the environment when omitted)."""
        if settings is None:
            from ..settings import Settings

            settings = Settings()
        kw = settings.s3_kwargs()
        kw.update(overrides)
        return cls(**kw)

    def __repr__(self) -> str:  # no credentials in here
        return f"S3Storage(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    def ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError:
            try:
                self._client.create_bucket(Bucket=self.bucket)
            except Exception as e:  # noqa: BLE001
                raise self._wrap(e, self.bucket) from e

    # --- errors -----------------------------------------------------------------------------

    def _wrap(self, e: BaseException, key: str) -> Exception:
        from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

        cause: BaseException | None = e
        while cause is not None and not isinstance(cause, ClientError):  # S3UploadFailedError wraps one
            cause = cause.__cause__ or cause.__context__
        if isinstance(cause, ClientError):
            err = cause.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = str(cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if code in _MISSING:
                return MissingObject(f"no object at {key}")
            if code in _FATAL or status == "403":
                return Fatal(f"S3 refused {key} in bucket {self.bucket}: {code} {err.get('Message', '')}".strip())
            if code in _BAD_INPUT:
                return BadInput(f"S3 rejected {key}: {code} {err.get('Message', '')}".strip())
        if isinstance(e, (NoCredentialsError, PartialCredentialsError)):
            return Fatal(f"S3 credentials missing: {e}")
        return Transient(f"S3 error on {key}: {type(e).__name__}: {e}")

    # --- writes -----------------------------------------------------------------------------

    @staticmethod
    def _check_gzip(key: str, head: bytes) -> None:
        if key.endswith(".gz") and not head.startswith(GZIP_MAGIC):
            raise BadInput(f"refusing to store non-gzip data under {key}")

    def _extra(self, key: str, content_type: str | None) -> dict[str, str]:
        return {"ContentType": content_type or content_type_for(key)}

    def put_file(self, key, path, content_type=None) -> None:
        check_key(key)
        path = os.fspath(path)
        with open(path, "rb") as f:
            self._check_gzip(key, f.read(2))
        try:
            # Multipart above the threshold; the object appears only when the upload completes,
            # and s3transfer aborts the multipart upload if any part fails.
            self._client.upload_file(path, self.bucket, key, ExtraArgs=self._extra(key, content_type),
                                     Config=self._transfer)
        except Exception as e:  # noqa: BLE001 - vendor errors become ours
            raise self._wrap(e, key) from e

    def put_bytes(self, key, data, content_type=None) -> None:
        check_key(key)
        data = bytes(data)
        self._check_gzip(key, data[:2])
        if len(data) >= self.multipart_threshold:
            self.put_fileobj(key, io.BytesIO(data), content_type)
            return
        md5 = base64.b64encode(hashlib.md5(data).digest()).decode()  # S3 verifies it on arrival
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentMD5=md5,
                                    **self._extra(key, content_type))
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, key) from e

    def create_exclusive(self, key: str, data: bytes = b"") -> bool:
        """Create ``key`` only if absent (conditional PUT, ``If-None-Match: *``)."""
        check_key(key)
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*",
                                    **self._extra(key, None))
            return True
        except Exception as e:  # noqa: BLE001
            code = str(getattr(e, "response", {}).get("Error", {}).get("Code", ""))
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise self._wrap(e, key) from e

    def put_fileobj(self, key: str, fileobj: IO[bytes], content_type: str | None = None) -> None:
        """Stream a readable binary object up (multipart above the threshold); all or nothing."""
        check_key(key)
        try:
            self._client.upload_fileobj(fileobj, self.bucket, key, ExtraArgs=self._extra(key, content_type),
                                        Config=self._transfer)
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, key) from e

    # --- reads ------------------------------------------------------------------------------

    def get_file(self, key, path) -> None:
        # Stream to a temp file beside the target and rename, so a failed download leaves nothing.
        check_key(key)
        d = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=d)
        os.close(fd)
        try:
            self._client.download_file(self.bucket, key, tmp, Config=self._transfer)
            os.replace(tmp, path)
        except Exception as e:  # noqa: BLE001
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise self._wrap(e, key) from e

    def get_bytes(self, key) -> bytes:
        check_key(key)
        try:
            return self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, key) from e

    def head(self, key: str) -> dict[str, Any]:
        """Size, content type, ETag and modification time of one object."""
        check_key(key)
        try:
            r = self._client.head_object(Bucket=self.bucket, Key=key)
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, key) from e
        return {"size": r["ContentLength"], "content_type": r.get("ContentType"),
                "content_encoding": r.get("ContentEncoding"), "etag": r.get("ETag"),
                "last_modified": r.get("LastModified")}

    def modified_at(self, key) -> float:
        return self.head(key)["last_modified"].timestamp()

    def exists(self, key) -> bool:
        try:
            self.head(key)
            return True
        except MissingObject:
            return False

    def list(self, prefix) -> list[str]:
        p = check_key(prefix.rstrip("/")) + "/"
        out: list[str] = []
        try:
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=p):
                out.extend(o["Key"] for o in page.get("Contents", []))
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, prefix) from e
        return sorted(out)

    # --- deletes ----------------------------------------------------------------------------

    def delete(self, key) -> None:
        check_key(key)
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, key) from e

    def delete_prefix(self, prefix: str) -> int:
        """Batch deletes, 1,000 keys a request."""
        keys = self.list(prefix)
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            try:
                r = self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )
            except Exception as e:  # noqa: BLE001
                raise self._wrap(e, prefix) from e
            if r.get("Errors"):
                first = r["Errors"][0]
                raise Transient(f"S3 could not delete {len(r['Errors'])} keys under {prefix}: "
                                f"{first.get('Key')}: {first.get('Code')}")
        return len(keys)

    def abort_incomplete_uploads(self, prefix: str = "") -> int:
        """Abort multipart uploads left by crashed processes (a lifecycle rule does it too)."""
        n = 0
        try:
            for page in self._client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=prefix):
                for u in page.get("Uploads", []):
                    self._client.abort_multipart_upload(Bucket=self.bucket, Key=u["Key"], UploadId=u["UploadId"])
                    n += 1
        except Exception as e:  # noqa: BLE001
            raise self._wrap(e, prefix or self.bucket) from e
        return n

    def close(self) -> None:
        self._client.close()
