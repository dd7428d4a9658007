"""Device choice: cuda → mps → cpu, overridable by argument or ``CAPTIONACC_DEVICE``."""

from __future__ import annotations

import os

import torch

from .errors import Fatal

_CHOICES = ("auto", "cuda", "mps", "cpu")


def select_device(preference: str | None = None) -> torch.device:
    """Return the device to compute on.

    ``preference`` is one of auto|cuda|mps|cpu (or ``cuda:N``); None reads
    ``CAPTIONACC_DEVICE`` and falls back to auto. Asking for a device the machine lacks is an
    error rather than a silent CPU fallback, so a mis-provisioned GPU node fails loudly.
    """
    pref = (preference or os.environ.get("CAPTIONACC_DEVICE") or "auto").strip().lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if pref.split(":")[0] not in _CHOICES:
        raise Fatal(f"unknown device {preference!r}; expected one of {', '.join(_CHOICES)}")
    if pref.startswith("cuda") and not torch.cuda.is_available():
        raise Fatal(f"device {pref!r} requested but CUDA is not available on this machine")
    if pref == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise Fatal("device 'mps' requested but MPS is not available on this machine")
    return torch.device(pref)
