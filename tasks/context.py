"""What a job needs besides its arguments: storage, OCR, device, the extents predictor.

Workers build one ``JobContext`` per process and pass it to every job, so models load once per
process, not per task. Jobs called without one build it from the environment.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from gpu_kernels.limits import Limits

from .storage import Storage, open_storage

if TYPE_CHECKING:
    import torch

    from gpu_kernels.extents import PairPredictor

    from .ocr import OcrEngine

CPU_MODEL_THREADS = 1  # torch's intra-op threads where the extents model runs on the CPU

# progress(stage, done, total): long stages report here; total may be None when unknown.
Progress = Callable[[str, int, Optional[int]], None]


def settle_heap() -> None:
    """Move every object alive now (imported modules, loaded models: ~220,000 with torch)
    out of the cyclic garbage collector's view for good (``gc.freeze``). Call it once a process
    has loaded what it keeps. Otherwise each full collection walks them all again: 3.6 % of
    ``captionacc run``'s CPU on the 1-min bench clip went to the collector, and freezing after
    the preload took 22.4 → 20.0 CPU-s and 14.9 → 13.4 s wall (3 runs each, alternated).
    Frozen objects are still freed when their last reference goes."""
    gc.freeze()


def _no_progress(stage: str, done: int, total: int | None) -> None:
    pass


@dataclass
class JobContext:
    storage: Storage
    ocr_name: str = "rapidocr"
    lang: str | None = None
    device_name: str | None = None  # auto|cpu|cuda|mps; None reads CAPTIONACC_DEVICE
    predictor_name: str = "auto"  # auto|learned|classical
    # Refine caption boundaries to the source frame (from frames kept during the main decode).
    refine_boundaries: bool = True
    # OCR-check unsure or long caption spans (tasks.extent_check) before publishing extents.
    check_extents: bool = True
    # Decode on the GPU's video engine (NVDEC) when the device is CUDA; software otherwise.
    hw_decode: bool = True
    progress: Progress = _no_progress
    # What one video may cost (CAPTIONACC_MAX_*); checked when a job first probes the video.
    limits: Limits = field(default_factory=Limits)
    _ocr: "OcrEngine | None" = field(default=None, repr=False)
    _predictor: "PairPredictor | None" = field(default=None, repr=False)
    _device: "torch.device | None" = field(default=None, repr=False)
    _resolved: str | None = field(default=None, repr=False)  # lang="auto": this video's language
    _resolved_for: str | None = field(default=None, repr=False)  # ... as recorded in this layout.db
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # The extents model has its own: it may load in a thread while the OCR engine reads.
    _model_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_env(cls, settings=None, **overrides) -> "JobContext":
        """Build from :class:`tasks.settings.Settings` (environment + ``.env``)."""
        from .settings import Settings

        s = settings or Settings()
        kw = dict(
            storage=open_storage(settings=s),
            ocr_name=s.ocr,
            lang=s.lang,
            device_name=s.device,
            predictor_name=s.extents_model,
            refine_boundaries=s.refine_boundaries,
            check_extents=s.check_extents,
            hw_decode=s.hw_decode,
            limits=s.limits,
        )
        kw.update(overrides)
        return cls(**kw)

    @property
    def device(self) -> "torch.device":
        if self._device is None:
            from gpu_kernels.device import select_device

            self._device = select_device(self.device_name)
        return self._device

    @property
    def hwaccel(self) -> str | None:
        """FFmpeg hardware decoder for dense decoding: ``cuda`` (NVDEC) on a CUDA device."""
        return "cuda" if self.hw_decode and self.device.type == "cuda" else None

    @property
    def ocr(self) -> "OcrEngine":
        with self._lock:
            if self._ocr is None:
                from .ocr import open_ocr

                self._ocr = open_ocr(self.ocr_name, lang=self.caption_language)
            return self._ocr

    @property
    def predictor(self) -> "PairPredictor":
        with self._model_lock:
            if self._predictor is None:
                from gpu_kernels.extents import get_predictor

                if self.device.type == "cpu":
                    import torch

                    # The extents model is small (batches of 4-32 band crops): on a CPU its two
                    # threads waited on each other more than they worked while the decoder,
                    # VP9 and the OCR engine held the cores. crop-and-infer of the 1-min bench
                    # clip beside another job: 14.5 → 9.3 CPU-s with one (3 runs each).
                    torch.set_num_threads(CPU_MODEL_THREADS)
                self._predictor = get_predictor(self.predictor_name, device=self.device)
            return self._predictor

    def resolve_language(self, lang: str, layout_db_key: str | None = None) -> None:
        """With ``lang="auto"``, the language of the video at hand ("" = the default
        recogniser), detected by its extract job: the OCR engine reads it from now on. A worker's
        context serves many videos, so ``lang`` itself stays ``auto``. ``layout_db_key``: the
        layout.db recording that verdict (later jobs of that video need not read it again)."""
        with self._lock:
            if not self.auto_language:
                return
            self._resolved_for = layout_db_key
            if (lang or None) == self._resolved:
                return
            self._resolved = lang or None
            if self._ocr is not None:
                self._ocr.close()
                self._ocr = None

    @property
    def auto_language(self) -> bool:
        """No ``lang`` or ``lang="auto"``, with the local engines: they detect the language
        themselves (:mod:`tasks.ocr.detect`), so a Russian or Korean video needs no flag. Google
        Vision is given ``lang`` as it is (none: the configured hints; auto: none, it detects)."""
        return (self.lang or "auto").strip().lower() == "auto" and self.ocr_name == "rapidocr"

    def language_settled_by(self, layout_db_key: str) -> bool:
        """Whether the language in force is the one ``layout_db_key`` records."""
        return self._resolved_for == layout_db_key

    @property
    def caption_language(self) -> str | None:
        """The language the OCR engine reads: ``lang``, or with auto the resolved one."""
        return self._resolved if self.auto_language else self.lang

    def close(self) -> None:
        for res in (self._ocr, self._predictor, self.storage):
            if res is not None:
                res.close()
        self._ocr = self._predictor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
