"""The product's one exception hierarchy.

It lives in the bottom layer so every layer can raise and catch the same types:
``BadInput`` means retrying cannot help, ``Transient`` means it may, ``Fatal`` is our own bug
or a broken environment. Vendor errors are wrapped with ``raise ... from e``.
"""

from __future__ import annotations


class CaptionAccError(Exception):
    """Base of every error the product raises on purpose."""

    #: Whether a retry of the same job could succeed.
    retryable = False


class BadInput(CaptionAccError):
    """The caller's input is wrong; the same call will always fail."""


class InvalidVideo(BadInput):
    """The file is missing, is not a video, has no video stream, or cannot be decoded."""


class InvalidCropRegion(BadInput):
    """A crop region outside [0, 1], inverted, or with zero area in pixels."""


class InputTooLarge(BadInput):
    """A video over a configured limit (pixels per frame, duration, frame rate): refused before
    any work, nothing published."""


class UnsupportedLanguage(BadInput):
    """A caption language no local recogniser reads, or whose model is not installed: the
    message names the package that provides it."""


class InvalidId(BadInput):
    """A tenant or video id that is not a UUID, or a key outside the caller's tree."""


class InvalidFrameRange(BadInput):
    """An empty or out-of-bounds [start_frame, end_frame)."""


class MissingObject(BadInput):
    """A storage object the job needs does not exist (missing chunk, manifest, video)."""


class CorruptData(BadInput):
    """A stored artefact exists but cannot be read (corrupt chunk, database, manifest)."""


class Transient(CaptionAccError):
    """A failure that may pass: network, throttling, a busy service."""

    retryable = True


class Fatal(CaptionAccError):
    """A broken environment or a bug: missing model weights, unusable device."""


def is_interruption(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) is a runner telling the job to stop — Celery's soft
    time limit, a timeout — rather than a failure of the work itself. Code that isolates
    failures (retry this frame, skip that one) must let these through. Matched by class name
    so the compute layers need not import Celery."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, TimeoutError) or any(
            c.__name__ in ("SoftTimeLimitExceeded", "TimeLimitExceeded") for c in type(exc).__mro__
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
