"""Re-export of the product's exception hierarchy (defined in the bottom layer)."""

from gpu_kernels.errors import (  # noqa: F401
    BadInput,
    CaptionAccError,
    CorruptData,
    Fatal,
    InputTooLarge,
    InvalidCropRegion,
    InvalidFrameRange,
    InvalidId,
    InvalidVideo,
    MissingObject,
    Transient,
    UnsupportedLanguage,
    is_interruption,
)
