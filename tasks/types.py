"""The jobs' input and result dataclasses: the contracts of the Modal integration doc."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import InvalidCropRegion

# Scores (in place of a mean log P) the extent check gives spans it found where the model decoded
# no caption: a gap the layout's OCR saw caption text in (PROBED_SCORE), and a brief hesitation
# of the model probed once (HESITATION_SCORE; see tasks.pipeline._without_weak_probed).
PROBED_SCORE = -10.0
HESITATION_SCORE = -11.0


@dataclass(frozen=True)
class CropRegion:
    """Normalized crop region, fractions of the frame in [0, 1], left<right, top<bottom."""

    crop_left: float
    crop_top: float
    crop_right: float
    crop_bottom: float

    def __post_init__(self) -> None:
        vals = self.as_tuple()
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v) for v in vals):
            raise InvalidCropRegion(f"crop region must be four numbers, got {vals!r}")
        if any(v < 0 or v > 1 for v in vals):
            raise InvalidCropRegion(f"crop region {vals!r} is outside [0, 1]")
        if not (self.crop_left < self.crop_right and self.crop_top < self.crop_bottom):
            raise InvalidCropRegion(f"crop region {vals!r} is empty or inverted")

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.crop_left, self.crop_top, self.crop_right, self.crop_bottom)

    @classmethod
    def parse(cls, value: Any) -> "CropRegion":
        """From a CropRegion, a dict with the four fields, a 4-sequence, or "L,T,R,B"."""
        if isinstance(value, CropRegion):
            return value
        if isinstance(value, dict):
            names = [f.name for f in fields(cls)]
            missing = [n for n in names if n not in value]
            if missing:
                raise InvalidCropRegion(f"crop region is missing {missing}")
            return cls(*(value[n] for n in names))
        if isinstance(value, str):
            parts = value.split(",")
            if len(parts) != 4:
                raise InvalidCropRegion(f"crop region must be L,T,R,B; got {value!r}")
            try:
                return cls(*(float(p) for p in parts))
            except ValueError as e:
                raise InvalidCropRegion(f"crop region must be four numbers; got {value!r}") from e
        if isinstance(value, (list, tuple)) and len(value) == 4:
            return cls(*value)
        raise InvalidCropRegion(f"cannot read a crop region from {value!r}")


@dataclass(frozen=True)
class ExtractResult:
    frame_count: int  # number of frames extracted
    duration: float  # video duration in seconds
    ocr_box_count: int  # total OCR detections
    full_frames_key: str  # storage prefix of the frames directory
    ocr_db_key: str  # key of raw-ocr.db.gz
    layout_db_key: str  # key of layout.db.gz
    # The layout's suggestion (layout_config / layout_regions of layout.db), so a caller can go on
    # to crop-and-infer without opening the database: region 0 and every caption region.
    crop_region: dict | None = None  # {crop_left, crop_top, crop_right, crop_bottom}, fractions
    regions: list | None = None  # [{crop_left, ..., anchor_type, confidence}], primary first

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CropInferResult:
    version: int  # cropped frames version number
    caption_frame_extents_db_key: str
    cropped_frames_prefix: str
    # Every region cropped in the pass, region 0 first: {region_index, crop_region, version,
    # cropped_frames_prefix}. The three fields above are region 0's.
    regions: tuple = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["regions"] = [dict(r) for r in self.regions]  # what JSON gives back: a list
        return d


@dataclass(frozen=True)
class CaptionOcrResult:
    ocr_text: str
    confidence: float  # 0..1
    frame_count: int  # frames used in the median

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class CaptionOcrBatchResult:
    captions: list  # CaptionOcrResult per range, in the order the ranges were given

    def to_dict(self) -> dict:
        return {"captions": [c.to_dict() for c in self.captions]}
