"""Validation of job arguments shared by the jobs: ids, video keys, rates."""

from __future__ import annotations

import math
import re

from .errors import BadInput, InvalidId
from .keys import UUID_PATTERN, VideoKeys
from .storage import check_key

# A caller's video key: an uploaded file inside one of the tenant's own video folders, spelled
# with plain ASCII path segments. No percent-escapes, unicode lookalikes (fullwidth dots or
# slashes), control characters, ``..``, empty segments or URL syntax can reach storage.
_SEGMENT = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}"
_VIDEO_KEY_RE = re.compile(
    rf"(?P<tenant>{UUID_PATTERN})/client/videos/{UUID_PATTERN}/(?:{_SEGMENT}/){{0,4}}{_SEGMENT}"
)


def video_keys(tenant_id: str, video_id: str, video_key: str) -> VideoKeys:
    """Validate ids, and that the video key lies inside the tenant's own tree."""
    keys = VideoKeys(tenant_id, video_id)
    if not isinstance(video_key, str):
        raise InvalidId(f"video_key must be a string, got {type(video_key).__name__}")
    m = _VIDEO_KEY_RE.fullmatch(video_key)
    if not m or m["tenant"] != keys.tenant_id:
        raise InvalidId(
            f"video_key must be '{keys.tenant_id}/client/videos/{{uuid}}/{{file}}' in plain ASCII, "
            f"got {video_key!r}"
        )
    check_key(video_key)  # defence in depth: the storage layer's own rules
    return keys


def positive_rate(value: float, name: str, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise BadInput(f"{name} must be a number, got {value!r}")
    if not (0 < value <= maximum):
        raise BadInput(f"{name} must be in (0, {maximum}], got {value}")
    return float(value)
