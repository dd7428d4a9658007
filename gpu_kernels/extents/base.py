"""The caption-extents interface: pairs of consecutive cropped frames → five-class probabilities."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

CLASSES = ("same", "different", "empty_empty", "empty_valid", "valid_empty")
SAME, DIFFERENT, EMPTY_EMPTY, EMPTY_VALID, VALID_EMPTY = range(5)
# Reading a pair backwards swaps which side is empty; the other labels are symmetric.
BACKWARD_OF = np.array([SAME, DIFFERENT, EMPTY_EMPTY, VALID_EMPTY, EMPTY_VALID])


@dataclass
class PairProbs:
    """Probabilities for P pairs (frame k, frame k+1).

    ``forward[k]`` classifies (a, b) = (frame k, frame k+1); ``backward[k]`` classifies the pair
    read the other way, (b, a), in its own orientation: its ``empty_valid`` means frame k+1 is
    empty and frame k shows a caption.
    """

    forward: np.ndarray  # (P, 5) float32, rows sum to 1
    backward: np.ndarray  # (P, 5) float32, rows sum to 1

    def __len__(self) -> int:
        return int(self.forward.shape[0])

    @staticmethod
    def concat(parts: list["PairProbs"]) -> "PairProbs":
        if not parts:
            return PairProbs(np.zeros((0, 5), np.float32), np.zeros((0, 5), np.float32))
        return PairProbs(
            np.concatenate([p.forward for p in parts]), np.concatenate([p.backward for p in parts])
        )


class PairPredictor(ABC):
    """Classifies consecutive frame pairs. Implementations hold their model; one per file."""

    #: Short name used in the registry and recorded as ``model_version`` in the database.
    name: str = "base"
    version: str = "0"

    @abstractmethod
    def predict(self, frames: np.ndarray) -> PairProbs:
        """(N, H, W, 3) uint8 consecutive cropped frames → probabilities for the N-1 pairs.

        Streaming callers pass overlapping windows (the last frame of one window first in the
        next) so every consecutive pair is classified exactly once.
        """

    @property
    def model_version(self) -> str:
        return f"{self.name}-{self.version}"

    def close(self) -> None:
        """Release device memory; the default holds nothing."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
