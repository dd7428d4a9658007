"""Limits on what one video may cost: frames no real video exceeds, named and configurable
(``CAPTIONACC_MAX_*``), so a hostile file (an 8192x8192 frame in 198 KB, a header promising
3.6e9 seconds) is refused up front with a clear error instead of taking a node's memory or time."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InputTooLarge

# A variable-rate phone video shows a frame or two more than its rate within some second.
FPS_SLACK = 1.05


@dataclass(frozen=True)
class Limits:
    # 8K UHD (7680x4320): every real camera and platform export fits; 8192x8192 does not.
    max_pixels: int = 7680 * 4320
    max_duration_s: float = 4 * 3600.0  # a feature film with room to spare
    max_fps: float = 240.0  # high-speed phone capture
    # No new picture for this long: no captioned video does that, a crafted timestamp jump does
    # (a 24 KB file "lasting" a day). Refused, never materialised as held frames.
    max_gap_s: float = 300.0
    # Storage one job may write (frames, chunks, databases); a 4-h 8K video needs about 8 GB.
    max_output_bytes: int = 16 << 30

    def check(self, width: int, height: int, duration: float, fps: float, name: str = "video",
              gap: float = 0.0, gap_at: float = 0.0) -> None:
        """Raise InputTooLarge (a BadInput) naming the first limit ``name`` goes over. ``fps`` is
        the most frames shown within any one second (a burst counts, not only the average);
        ``gap`` the longest jump between two frames' times, ``gap_at`` where it starts."""
        if width * height > self.max_pixels:
            raise InputTooLarge(f"{name}: {width}x{height} frames ({width * height:,} pixels) exceed the limit of "
                                f"{self.max_pixels:,} pixels (CAPTIONACC_MAX_PIXELS)")
        if duration > self.max_duration_s:
            raise InputTooLarge(f"{name}: duration {duration:,.0f} s exceeds the limit of {self.max_duration_s:,.0f} s "
                                f"(CAPTIONACC_MAX_DURATION_S)")
        if fps > self.max_fps * FPS_SLACK + 1:
            raise InputTooLarge(f"{name}: {fps:g} frames per second exceed the limit of {self.max_fps:g} "
                                f"(CAPTIONACC_MAX_FPS)")
        if gap > self.max_gap_s:
            raise InputTooLarge(f"{name}: no new frame for {gap:,.0f} s after {gap_at:,.1f} s exceeds the limit of "
                                f"{self.max_gap_s:,.0f} s (CAPTIONACC_MAX_GAP_S)")

    @property
    def max_frames(self) -> int:
        """Frames a video within the duration and rate limits can hold (a scan stops past it)."""
        return int(self.max_duration_s * self.max_fps * FPS_SLACK) + 16
