"""Caption-extents predictors (one per file) and their registry, plus the sequence decoder."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .base import CLASSES, PairPredictor, PairProbs
from .decode import Interval, decode_intervals

if TYPE_CHECKING:
    import torch  # the predictors import it; this package's light parts (base, decode) do not

__all__ = ["CLASSES", "PairPredictor", "PairProbs", "Interval", "decode_intervals", "get_predictor",
           "available_predictors"]


def _registry() -> dict[str, type[PairPredictor]]:
    """Predictors whose imports succeed; the learned model registers only if it can load."""
    found: dict[str, type[PairPredictor]] = {}
    from .classical import ClassicalChangeDetector

    found[ClassicalChangeDetector.name] = ClassicalChangeDetector
    try:
        from .learned import LearnedPairClassifier  # noqa: PLC0415 - optional until trained

        if LearnedPairClassifier.weights_available():
            found[LearnedPairClassifier.name] = LearnedPairClassifier
    except ModuleNotFoundError:
        pass  # not installed in this build
    except Exception:  # noqa: BLE001 - a broken optional model must not take the baseline down
        logging.getLogger(__name__).exception("learned caption-extents model unavailable")
    return found


def available_predictors() -> list[str]:
    return sorted(_registry())


def get_predictor(name: str = "auto", device: torch.device | None = None) -> PairPredictor:
    """``auto`` picks the learned model when its weights ship, the classical detector otherwise."""
    reg = _registry()
    if name == "auto":
        name = "learned" if "learned" in reg else "classical"
    if name not in reg:
        raise ValueError(f"unknown caption-extents predictor {name!r}; available: {sorted(reg)}")
    return reg[name](device=device)
