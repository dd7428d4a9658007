"""The jobs as plain Python functions with dataclass inputs and results.

Heavy modules (PyAV, torch, OCR engines, boto3) are imported by the job modules, not here, so
``import tasks`` is cheap and side-effect free.
"""

from .types import CaptionOcrResult, CropInferResult, CropRegion, ExtractResult

__all__ = ["CaptionOcrResult", "CropInferResult", "CropRegion", "ExtractResult"]
