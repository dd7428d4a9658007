"""Limits on what one video may cost: frames no real video exceeds, named and configurable
(``CAPTIONACC_MAX_*``), so a hostile file (an 8192x8192 frame in 198 KB, a header promising
3.6e9 seconds) is refused up front with a clear error instead of taking a node's memory or time."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InputTooLarge


@dataclass(frozen=True)
class Limits:
    # 8K UHD (7680x4320): every real camera and platform export fits; 8192x8192 does not.
    max_pixels: int = 7680 * 4320
    max_duration_s: float = 4 * 3600.0  # a feature film with room to spare
    max_fps: float = 240.0  # high-speed phone capture

    def check(self, width: int, height: int, duration: float, fps: float, name: str = "video") -> None:
        """Raise InputTooLarge (a BadInput) naming the first limit ``name`` goes over."""
        if width * height > self.max_pixels:
            raise InputTooLarge(f"{name}: {width}x{height} frames ({width * height:,} pixels) exceed the limit of "
                                f"{self.max_pixels:,} pixels (CAPTIONACC_MAX_PIXELS)")
        if duration > self.max_duration_s:
            raise InputTooLarge(f"{name}: duration {duration:,.0f} s exceeds the limit of {self.max_duration_s:,.0f} s "
                                f"(CAPTIONACC_MAX_DURATION_S)")
        if fps > self.max_fps:
            raise InputTooLarge(f"{name}: {fps:g} frames per second exceed the limit of {self.max_fps:g} "
                                f"(CAPTIONACC_MAX_FPS)")
