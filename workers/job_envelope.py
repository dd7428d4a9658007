"""How a Modal function returns a caller's mistake: a ``BadInput`` travels as a plain dict (a
failed Modal call would be retried and logged as a crash), and :func:`unwrap` raises it again on
the caller's side. No Modal import: the dispatcher uses it without loading Modal's client."""

from __future__ import annotations

ERROR_KEY = "__captionacc_error__"


def wrap_bad_input(e: BaseException) -> dict:
    return {ERROR_KEY: {"type": type(e).__name__, "message": str(e)}}


def unwrap(out):
    """A function's return value, or its ``BadInput`` error envelope raised as that exception."""
    if isinstance(out, dict) and ERROR_KEY in out:
        from gpu_kernels import errors

        err = out[ERROR_KEY]
        cls = getattr(errors, str(err.get("type")), None)
        if not (isinstance(cls, type) and issubclass(cls, errors.BadInput)):
            cls = errors.BadInput
        raise cls(err.get("message", ""))
    return out
