"""Refine caption boundaries from the 10 Hz grid to the video's own frames.

A boundary found at 10 Hz index ``b`` says the caption state changed somewhere between the
samples ``b-1`` and ``b``: on a 25 fps video that is one of two or three source frames. For each
boundary this decodes only that stretch (seek to the keyframe before it, decode forward), crops
the band, and asks the same pair predictor that found the boundary where the change is:

    [old = frame on screen at (b-1)/rate, f_1, …, f_k]   f_k is the frame sampled at b/rate

The change sits on exactly one consecutive pair. Position j scores
``log P(change at pair j) + Σ_{i≠j} log P(no change at pair i)`` with both readings averaged,
and the best j gives the first source frame of the new state; its presentation time is the
refined boundary. Nearby boundaries share one decode pass instead of seeking again.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterable, Sequence

import av
import numpy as np

from ..errors import InvalidVideo
from ..video import (DecodeStats, _decode_frames, _frame_time, _open, _stream_start, crop_transform,
                     video_stream)
from .base import DIFFERENT, EMPTY_EMPTY, EMPTY_VALID, SAME, VALID_EMPTY, PairPredictor
from .decode import Interval, pair_log_scores

Boundary = int | tuple[int, int]


def _as_pair(b: Boundary) -> tuple[int, int]:
    """``b`` (first 10 Hz index of the new state) or ``(last old index, first new index)``."""
    if isinstance(b, (tuple, list)):
        if len(b) == 1:
            return int(b[0]) - 1, int(b[0])
        return int(b[0]), int(b[1])
    return int(b) - 1, int(b)


def change_position(predictor: PairPredictor, crops: np.ndarray) -> int:
    """Index j ≥ 1 of the first crop on the new side of the single change in ``crops``."""
    if len(crops) < 2:
        return len(crops) - 1
    s = pair_log_scores(predictor.predict(crops))  # (P, 5), forward orientation
    stay = np.logaddexp(s[:, SAME], s[:, EMPTY_EMPTY])  # (P,) no change on this pair
    move = np.logaddexp.reduce(s[:, [DIFFERENT, EMPTY_VALID, VALID_EMPTY]], axis=1)  # (P,)
    total = stay.sum()
    score = total - stay + move  # change at pair j, no change elsewhere
    return int(np.argmax(score)) + 1


def refine_boundaries(
    video_path: str | os.PathLike,
    crop_box: tuple[int, int, int, int],
    boundaries: Sequence[Boundary],
    rate: float = 10.0,
    predictor: PairPredictor | None = None,
    reseek_gap: float = 1.5,
) -> list[float]:
    """Exact time (seconds, presentation time of the first source frame of the new state) of
    each boundary, in the order given.

    ``boundaries`` holds 10 Hz indices ``b`` (the first sample on the new side, e.g. an
    interval's ``start`` or ``end``) or ``(a, b)`` pairs of the last old-side and first new-side
    sample when they are not adjacent. ``crop_box = (x0, y0, x1, y1)`` in source pixels is the
    band the predictor saw. A boundary at or before index 0 stays at 0.0; one past the end of
    the video stays on the grid.
    """
    if predictor is None:
        from . import get_predictor

        predictor = get_predictor("auto")
    step = 1 / Fraction(rate).limit_denominator(1000)
    pairs = [_as_pair(b) for b in boundaries]
    out: list[float] = [float(max(0, b) * step) for _, b in pairs]
    order = sorted((i for i, (a, b) in enumerate(pairs) if b > 0 and a < b), key=lambda i: pairs[i])
    if not order:
        return out
    crop = crop_transform(crop_box)
    stats = DecodeStats()
    container = _open(video_path)
    try:
        stream = video_stream(container)
        tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000)
        frame_dur = 1 / Fraction(stream.average_rate or stream.guessed_rate or 25)
        # Times are relative to the stream's start, as in iter_frames_at_rate (MPEG-TS offsets).
        t0 = _stream_start(stream) or Fraction(0)
        frames = None
        pending = None  # a decoded frame not yet consumed (first past the previous window)
        last_t: Fraction | None = None
        last_frame = None
        for i in order:
            a, b = pairs[i]
            t_old, t_new = max(0, a) * step, b * step
            if frames is None or last_t is None or t_old < last_t or t_old - last_t > reseek_gap:
                container.seek(max(0, int((t_old - Fraction(1, 2) + t0) / tb)), stream=stream,
                               backward=True, any_frame=False)
                frames = _decode_frames(container, stream, stats)
                pending, last_t, last_frame = None, None, None
            old = None  # frame on screen at t_old: the last one with time ≤ t_old
            window: list[tuple[Fraction, "av.VideoFrame"]] = []
            ended = False
            if last_frame is not None and last_t is not None and last_t <= t_old:
                old = last_frame
            while True:
                frame = pending if pending is not None else next(frames, None)
                pending = None
                if frame is None:
                    ended = True
                    break
                t = _frame_time(frame, last_t or Fraction(0), t0)
                if last_t is not None and t <= last_t:
                    continue  # duplicate or out-of-order timestamp, as iter_frames_at_rate does
                if t > t_new:
                    pending = frame
                    break
                last_t, last_frame = t, frame
                if t <= t_old:
                    old = frame
                else:
                    window.append((t, frame))
            if not window or (ended and t_new >= last_t + frame_dur):
                continue  # sample b lies past the last frame: no new state to find, keep the grid
            if old is None:  # the new side starts before the first decodable frame
                out[i] = float(window[0][0])
                continue
            crops = np.stack([crop(old)] + [crop(f) for _, f in window])  # (k+1, h, w, 3)
            j = change_position(predictor, crops)
            out[i] = float(window[j - 1][0])
    except av.error.FFmpegError as e:
        raise InvalidVideo(f"decoding failed while refining boundaries: {e}") from e
    finally:
        container.close()
    return out


def refine_intervals(
    video_path: str | os.PathLike,
    crop_box: tuple[int, int, int, int],
    intervals: Iterable[Interval],
    rate: float = 10.0,
    predictor: PairPredictor | None = None,
) -> list[tuple[float, float]]:
    """``(start, end)`` seconds for each 10 Hz interval [start, end), refined to source frames.

    An interval's end is the first sample without it, so both ends are boundaries of the same
    kind; back-to-back captions share one boundary and are refined once.
    """
    intervals = list(intervals)
    points = sorted({iv.start for iv in intervals} | {iv.end for iv in intervals})
    times = dict(zip(points, refine_boundaries(video_path, crop_box, points, rate, predictor)))
    return [(times[iv.start], times[iv.end]) for iv in intervals]
