"""The storage key layout, built in one place. Only validated UUIDs reach a key."""

from __future__ import annotations

import re
import uuid

from .errors import InvalidId

UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Matched with fullmatch: ``$`` would also accept a trailing newline.
_PREFIX_RE = re.compile(
    rf"(?P<tenant>{UUID_PATTERN})/client/videos/(?P<video>{UUID_PATTERN})/"
    r"cropped_frames_v(?P<version>[1-9][0-9]{0,5})/?"
)


def validate_id(value: str, what: str = "id") -> str:
    """Return ``value`` if it is a canonical lower-case UUID, or raise :class:`InvalidId`."""
    if not isinstance(value, str) or len(value) != 36:
        raise InvalidId(f"{what} must be a UUID string like 8-4-4-4-12 hex digits, got {value!r}")
    try:
        canonical = str(uuid.UUID(value))
    except ValueError as e:
        raise InvalidId(f"{what} is not a valid UUID: {value!r}") from e
    # S3 keys are case-sensitive: one spelling per id, or one tenant could own two trees.
    if canonical != value:
        raise InvalidId(f"{what} must be a lower-case canonical UUID, got {value!r}")
    return canonical


class VideoKeys:
    """Every key of one video. ``VideoKeys(tenant, video)`` validates both ids."""

    def __init__(self, tenant_id: str, video_id: str) -> None:
        self.tenant_id = validate_id(tenant_id, "tenant_id")
        self.video_id = validate_id(video_id, "video_id")
        self.client = f"{self.tenant_id}/client/videos/{self.video_id}"
        self.server = f"{self.tenant_id}/server/videos/{self.video_id}"

    @property
    def video(self) -> str:
        return f"{self.client}/video.mp4"

    @property
    def full_frames(self) -> str:
        return f"{self.client}/full_frames"

    @property
    def thumbnails(self) -> str:
        return f"{self.client}/full_frames_thumbnails"

    def full_frame(self, frame_index: int) -> str:
        return f"{self.full_frames}/frame_{frame_index:06d}.jpg"

    def thumbnail(self, frame_index: int) -> str:
        return f"{self.thumbnails}/frame_{frame_index:06d}.jpg"

    @property
    def raw_ocr_db(self) -> str:
        return f"{self.server}/raw-ocr.db.gz"

    @property
    def layout_db(self) -> str:
        return f"{self.client}/layout.db.gz"

    @property
    def cropped_frames_root(self) -> str:
        return f"{self.client}/cropped_frames_v"

    def cropped_frames(self, version: int) -> str:
        if not isinstance(version, int) or version < 1:
            raise InvalidId(f"cropped frames version must be a positive int, got {version!r}")
        return f"{self.client}/cropped_frames_v{version}"

    @property
    def caption_frame_extents_db(self) -> str:
        return f"{self.server}/caption_frame_extents.db"

    @property
    def captions_db(self) -> str:
        return f"{self.client}/captions.db.gz"

    @property
    def captions_srt(self) -> str:
        return f"{self.client}/captions.srt"

    @property
    def captions_vtt(self) -> str:
        return f"{self.client}/captions.vtt"


def chunk_key(prefix: str, modulo: int, chunk_index: int) -> str:
    return f"{prefix.rstrip('/')}/modulo_{modulo}/chunk_{chunk_index:04d}.webm"


def manifest_key(prefix: str) -> str:
    return f"{prefix.rstrip('/')}/manifest.json"


def parse_chunks_prefix(prefix: str) -> tuple[VideoKeys, int]:
    """Validate a caller's ``chunks_prefix``; refuses anything but one video's version folder.

    Path tricks (``..``, ``//``, absolute paths, URLs, other folders) fail the strict pattern.
    """
    if not isinstance(prefix, str):
        raise InvalidId(f"chunks_prefix must be a string, got {type(prefix).__name__}")
    m = _PREFIX_RE.fullmatch(prefix)
    if not m:
        raise InvalidId(
            "chunks_prefix must look like '{tenant}/client/videos/{video}/cropped_frames_v{N}/', "
            f"got {prefix!r}"
        )
    return VideoKeys(m["tenant"], m["video"]), int(m["version"])
