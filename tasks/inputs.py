"""Validation of job arguments shared by the jobs: ids, video keys, rates."""

from __future__ import annotations

import math

from .errors import BadInput, InvalidId
from .keys import VideoKeys
from .storage import check_key


def video_keys(tenant_id: str, video_id: str, video_key: str) -> VideoKeys:
    """Validate ids, and that the video key lies inside the tenant's own tree."""
    keys = VideoKeys(tenant_id, video_id)
    check_key(video_key)
    if not video_key.startswith(f"{keys.tenant_id}/"):
        raise InvalidId(f"video_key {video_key!r} is outside tenant {keys.tenant_id}")
    return keys


def positive_rate(value: float, name: str, maximum: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise BadInput(f"{name} must be a number, got {value!r}")
    if not (0 < value <= maximum):
        raise BadInput(f"{name} must be in (0, {maximum}], got {value}")
    return float(value)
