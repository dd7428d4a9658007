"""Caption-band crops cut from the decoded YUV planes, without converting whole frames to RGB.

The decoder hands out 4:2:0 YUV. The chunk encoder wants 4:2:0 YUV too, so the band goes to
VP9 untouched (no RGB round trip, no colour drift), and only what the model or OCR reads is
converted, band-sized. Rotated video and other pixel formats take the plain path: whole frame
to RGB, rotate, crop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import av
import numpy as np

from .video import _quarter_turns, crop_transform, frame_array

_YUV420 = ("yuv420p", "yuvj420p")


@dataclass
class Band:
    """One cropped band: ``yuv420p``/``yuvj420p`` as (h·3/2, w) stacked planes (PyAV's layout),
    or ``rgb24`` as (h, w, 3)."""

    data: np.ndarray
    fmt: str
    colorspace: int = 2  # AVCOL_SPC_UNSPECIFIED: swscale's default (BT.601)
    color_range: int = 0

    @property
    def height(self) -> int:
        return self.data.shape[0] * 2 // 3 if self.fmt != "rgb24" else self.data.shape[0]

    @property
    def width(self) -> int:
        return self.data.shape[1]

    def video_frame(self) -> av.VideoFrame:
        frame = av.VideoFrame.from_ndarray(self.data, format=self.fmt)
        if self.fmt != "rgb24":
            frame.colorspace, frame.color_range = self.colorspace, self.color_range
        return frame

    def rgb(self) -> np.ndarray:
        """(h, w, 3) uint8 RGB, converted with the source frame's colour space and range."""
        if self.fmt == "rgb24":
            return self.data
        return frame_array(self.video_frame())

    @staticmethod
    def from_rgb(rgb: np.ndarray) -> "Band":
        return Band(np.ascontiguousarray(rgb), "rgb24")


def _plane(frame: av.VideoFrame, i: int, samples: int = 1) -> np.ndarray:
    """Plane ``i`` as (rows, bytes) without the row padding; ``samples`` bytes per pixel
    (2 for NV12's interleaved U/V plane)."""
    p = frame.planes[i]
    return np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width * samples]


def band_cropper(box: tuple[int, int, int, int]) -> Callable[[av.VideoFrame], Band]:
    """A frame transform returning the band ``box = (x0, y0, x1, y1)`` (upright coordinates,
    even as :func:`gpu_kernels.crop.region_to_box` makes them) as a :class:`Band`."""
    x0, y0, x1, y1 = box
    fast = x0 % 2 == 0 and y0 % 2 == 0 and (x1 - x0) % 2 == 0 and (y1 - y0) % 2 == 0
    slow = crop_transform(box)

    def fn(frame: av.VideoFrame) -> Band:
        fmt = frame.format.name
        if not fast or fmt not in _YUV420 + ("nv12",) or _quarter_turns(frame):
            return Band.from_rgb(slow(frame))
        y = _plane(frame, 0)[y0:y1, x0:x1]
        if fmt == "nv12":  # hardware decoders: U and V interleaved in one half-height plane
            uv = _plane(frame, 1, samples=2)[y0 // 2 : y1 // 2, x0:x1]
            u, v, fmt = uv[:, 0::2], uv[:, 1::2], "yuv420p"
        else:
            u = _plane(frame, 1)[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
            v = _plane(frame, 2)[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
        h, w = y1 - y0, x1 - x0
        data = np.empty((h * 3 // 2, w), np.uint8)  # a copy, so the decoder's frame is freed
        data[:h] = y
        chroma = data[h:].reshape(-1)  # U then V, each (h/2, w/2), packed as PyAV lays them out
        chroma[: u.size].reshape(u.shape)[...] = u
        chroma[u.size :].reshape(v.shape)[...] = v
        return Band(data, fmt, int(frame.colorspace), int(frame.color_range))

    return fn

