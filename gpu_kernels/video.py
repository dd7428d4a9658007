"""Video decoding with PyAV: probing, sampled decoding by seek, dense decoding at a rate.

Vendor errors become :class:`InvalidVideo`. Frames are yielded one at a time so memory stays
bounded whatever the video's length. Times are exact rationals (``Fraction``) so a 10 Hz index
never lands on the wrong source frame through float rounding.

Times are relative to the video stream's start (``stream.start_time``): an MPEG-TS cut from a
broadcast whose clock reads 60 s at its first frame, or a fragmented MP4 whose B-frame delay
puts its first frame at 0.2 s, still has its first frame at time 0 and index 0.

Frames are seen upright: the display matrix (a phone's rotation flag) is applied, so widths,
heights, crop boxes and every returned array are in displayed (upright) coordinates.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import os
import threading
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Iterable, Iterator, Sequence

import av
from av.video.reformatter import VideoReformatter
import numpy as np

from .errors import InputTooLarge, InvalidVideo
from .limits import Limits

log = logging.getLogger(__name__)

# A frame transform (crop, colour conversion): an array, or a band (gpu_kernels.band).
FrameFn = Callable[["av.VideoFrame"], object]


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    fps: float
    duration: float  # seconds
    codec: str
    frame_count: int  # as the container reports it; 0 when unknown
    rotation: int = 0  # display rotation applied to frames, degrees counterclockwise: 0, 90, 180 or -90
    # Measured from the packets' own times (:func:`scan_times`), not the header:
    peak_fps: float = 0.0  # most frames shown within any one second
    max_gap: float = 0.0  # longest time between two consecutive frames...
    gap_at: float = 0.0  # ...and where it starts, seconds from the stream start
    header_duration: float = 0.0  # what the header claims, when ``duration`` was measured instead
    # Keyframe times, seconds from the stream's first frame (ascending): a seek lands on one, so
    # a frame just after a keyframe costs one decode where one before it costs a whole GOP.
    keyframes: tuple[float, ...] = ()


@dataclass
class DecodeStats:
    """What a decode pass saw; corrupt packets are counted, never silently dropped."""

    decoded: int = 0
    emitted: int = 0
    corrupt_packets: int = 0
    errors: list[str] = field(default_factory=list)


# Source frames a boundary window keeps (the last ones before its sample): 0.1 s at 240 fps
# is 24 frames; more only comes from a crafted burst of timestamps.
MAX_WINDOW_FRAMES = 32

# Containers whose header indexes every sample, so a cut-off file is detectable without decoding.
_INDEXED_FORMATS = ("mov", "mp4", "matroska", "webm")


def _hw_open(path: str, hwaccel: str):
    """Open for hardware decoding (``"cuda"``: NVDEC). Frames come back downloaded to system
    memory (NV12 from NVDEC); a codec the hardware lacks decodes in software inside FFmpeg. No
    usable device (no driver, no GPU) → None, and the caller decodes in software."""
    from av.codec.hwaccel import HWAccel, hwdevices_available

    if hwaccel not in hwdevices_available():
        return None
    try:
        return av.open(path, mode="r", hwaccel=HWAccel(device_type=hwaccel, allow_software_fallback=True))
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        if not _hw_warned:
            _hw_warned.append(True)
            log.warning("hardware decoding (%s) unavailable, decoding in software: %s", hwaccel, e)
        return None


_hw_warned: list[bool] = []


def _open(path: str | os.PathLike, hwaccel: str | None = None) -> "av.container.InputContainer":
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InvalidVideo(f"video file not found: {path}")
    if not os.path.isfile(path):
        raise InvalidVideo(f"not a regular file: {path}")
    if os.path.getsize(path) == 0:
        raise InvalidVideo(f"video file is empty: {path}")
    container = _hw_open(path, hwaccel) if hwaccel else None
    try:
        container = container or av.open(path, mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError) as e:
        raise InvalidVideo(f"not a readable video ({type(e).__name__}): {path}") from e
    fmt = container.format.name or ""
    if fmt == "image2" or fmt.endswith("_pipe"):  # png_pipe, jpeg_pipe, ...: a photo renamed .mp4
        container.close()
        raise InvalidVideo(f"a still image ({fmt}), not a video: {path}")
    stream = video_stream(container)
    if stream is None:
        container.close()
        only_cover = " (only a cover picture)" if container.streams.video else ""
        raise InvalidVideo(f"no video stream in {path}{only_cover}")
    # Frame-threaded decoding; must be set before the codec opens (first decode).
    stream.thread_type = "AUTO"
    return container


def video_stream(container):
    """The stream that holds the video: never an attached picture (cover art, which many files
    put first), the default one before others, then the largest. None if there is none."""
    from av.stream import Disposition

    def still(st) -> bool:
        return bool(st.disposition & (Disposition.attached_pic | Disposition.timed_thumbnails))

    moving = [st for st in container.streams.video if not still(st)]
    if not moving:
        return None
    return max(moving, key=lambda st: (bool(st.disposition & Disposition.default),
                                       (st.codec_context.width or 0) * (st.codec_context.height or 0),
                                       -st.index))


def _duration(container, stream) -> float:
    """The stream's own length; neither value includes the start offset (FFmpeg's container
    duration is end - start_time), so a TS starting at 60 s lasting 2 s reports 2 s."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def probe(path: str | os.PathLike, limits: Limits | None = None, name: str | None = None) -> VideoInfo:
    """Read the video's geometry and timing; checks that a frame decodes and, for indexed
    containers (MP4/MOV, Matroska/WebM), that the data reaches the end the header promises.

    Timing is measured from the packets (:func:`scan_times`: demuxing, no decoding), never taken
    from the header alone: a 2-s file whose header claims 3.6e9 s lasts 2 s, and a file with a
    day-long timestamp jump lasts a day. With ``limits``, a video over one raises InputTooLarge
    naming ``name`` (default: the path) before any frame is decoded for work.
    """
    key = _file_key(path)
    info = _probed.get(key)
    if info is None:
        info = _probe(path)
        scan = scan_times(path, limits or Limits())
        if scan is not None:
            end, peak, gap, gap_at, keyframes = scan
            changes = dict(peak_fps=peak, max_gap=gap, gap_at=gap_at, keyframes=keyframes)
            # A header off by more than a frame or two is wrong, not rounded: trust the packets.
            slack = 1.0 + 2.0 / max(info.fps, 1.0)
            if abs(end - info.duration) > slack:
                changes.update(duration=end, header_duration=info.duration)
            info = dataclasses.replace(info, **changes)
        if key is not None:
            with _probed_lock:  # a threads pool probes from several threads
                while len(_probed) >= 64:
                    _probed.pop(next(iter(_probed)))
                _probed[key] = info
    if limits is not None:
        limits.check(info.width, info.height, info.duration, info.peak_fps or info.fps,
                     name=name or os.fspath(path), gap=info.max_gap, gap_at=info.gap_at)
    return info


# Probes of files seen in this process, by identity: the CLI probes the user's file and each job
# probes its hard link again (same inode), which would demux the whole file three times.
_probed: dict[tuple, VideoInfo] = {}
_probed_lock = threading.Lock()


def _file_key(path: str | os.PathLike) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None  # _open reports it
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) if os.path.isfile(path) else None


def scan_times(path: str | os.PathLike, limits: Limits
               ) -> tuple[float, float, float, float, tuple[float, ...]] | None:
    """Demux the video stream (no decoding) and measure its timing from the packets:
    ``(end, peak frames within one second, longest gap, where it starts, keyframe times)``,
    seconds from the stream's first frame. None when packets carry no times (a raw elementary
    stream).

    Stops with InputTooLarge once more frames than ``limits`` allow have been seen, so a file
    of a million tiny packets costs a bounded scan.
    """
    container = _open(path)
    try:
        stream = video_stream(container)
        if stream.time_base is None:
            return None
        pts, keys = [], []
        cap = limits.max_frames
        for packet in container.demux(stream):
            t = packet.pts if packet.pts is not None else packet.dts
            if t is None or packet.size == 0:
                continue
            pts.append(t)
            if packet.is_keyframe:
                keys.append(t)
            if len(pts) > cap:
                raise InputTooLarge(f"{os.fspath(path)}: more than {cap:,} frames exceed what the limits allow "
                                    f"({limits.max_duration_s:,.0f} s at {limits.max_fps:g} fps)")
    except av.error.FFmpegError as e:
        raise InvalidVideo(f"cannot read {os.fspath(path)}: {e}") from e
    finally:
        container.close()
    if not pts:
        return None
    tb = float(stream.time_base)
    times = np.unique(np.asarray(pts, dtype=np.int64))  # sorted; a repeated time shows one frame
    secs = (times - times[0]) * tb
    gaps = np.diff(secs)
    # The last frame shows for a typical frame's time: a packet's own duration can be anything
    # (an MP4 muxer gives the last sample the gap before it).
    end = secs[-1] + (float(np.median(gaps)) if len(gaps) else 0.1)
    # Frames within [t, t + 1) for each frame's t: the most any one second shows.
    peak = int((np.searchsorted(secs, secs + (1.0 - 1e-6), side="left") - np.arange(len(secs))).max())
    k = int(gaps.argmax()) if len(gaps) else 0
    gap = float(gaps[k]) if len(gaps) else 0.0
    # The first keyframe of each 0.1 s is all a seek decision needs: an all-intra 4-h file keeps
    # at most 144,000 times, not one per frame.
    ksecs = np.unique((np.asarray(keys, dtype=np.int64) - times[0]) * tb)
    _, first = np.unique(np.floor(ksecs * 10), return_index=True)
    keyframes = tuple(float(x) for x in ksecs[first])
    return float(end), float(peak), gap, float(secs[k]), keyframes


def _probe(path: str | os.PathLike) -> VideoInfo:
    container = _open(path)
    try:
        stream = video_stream(container)
        cc = stream.codec_context
        rate = stream.average_rate or stream.guessed_rate or 0
        info = VideoInfo(
            width=int(cc.width),
            height=int(cc.height),
            fps=float(rate) if rate else 0.0,
            duration=_duration(container, stream),
            codec=cc.name,
            frame_count=int(stream.frames or 0),
        )
        if info.width <= 0 or info.height <= 0:
            raise InvalidVideo(f"video stream has no picture size: {path}")
        try:
            # A header can be intact while the data is gone (truncated upload): prove one frame
            # decodes, and that packets reach the end of the stated duration.
            for first in _decode_frames(container, stream, DecodeStats(), max_frames=1):
                break
            else:
                raise InvalidVideo(f"no decodable frame in {path}")
            # Geometry as displayed: a phone video stored landscape with a 90° display matrix
            # is portrait everywhere downstream (crop fractions, chunk sizes, OCR).
            k = _quarter_turns(first)
            if k:
                w, h = (info.height, info.width) if k % 2 else (info.width, info.height)
                info = dataclasses.replace(info, width=w, height=h, rotation=(0, 90, 180, -90)[k])
            _check_not_truncated(container, stream, info, os.fspath(path))
        except av.error.FFmpegError as e:
            raise InvalidVideo(f"cannot read {path}: {e}") from e
        return info
    finally:
        container.close()


def _check_not_truncated(container, stream, info: VideoInfo, path: str) -> None:
    """Demux (no decoding) the last second; the packets must cover the stated duration.

    An MP4 cut mid-``mdat`` keeps its whole index, so probing and the first frames succeed and
    a decode pass silently stops early: the job would publish half a video as complete.
    """
    fmt = container.format.name or ""
    # Only the video track's own stated duration is a promise: a container duration can include
    # a longer audio track (Matroska often states no per-track duration at all).
    if stream.duration is None or info.duration <= 0 or stream.time_base is None \
            or not any(f in fmt for f in _INDEXED_FORMATS):
        return
    tb = Fraction(stream.time_base)
    start = Fraction(stream.start_time or 0) * tb
    rate = Fraction(info.fps).limit_denominator(1000)  # 0 for a "rate" of one frame a day
    frame = 1 / rate if rate > 0 else Fraction(1, 10)
    want_end = start + Fraction(info.duration).limit_denominator(1_000_000)
    target = max(start, want_end - 1 - 2 * frame)
    container.seek(int(target / tb), stream=stream, backward=True, any_frame=False)
    reached = None
    for packet in container.demux(stream):
        if packet.pts is None or packet.size == 0:
            continue
        end = (Fraction(packet.pts) + (packet.duration or 0)) * tb
        reached = end if reached is None else max(reached, end)
    tolerance = max(Fraction(1, 2), 3 * frame)
    if reached is None or reached < want_end - tolerance:
        got = float((reached or start) - start)
        raise InvalidVideo(
            f"video data ends at {got:.2f} s of the {info.duration:.2f} s its header states "
            f"(truncated upload?): {path}"
        )


def _frame_time(frame: "av.VideoFrame", fallback: Fraction, t0: Fraction = Fraction(0)) -> Fraction:
    """The frame's presentation time relative to the stream start ``t0`` (``fallback``, already
    relative, when the frame has no timestamp)."""
    if frame.pts is not None and frame.time_base is not None:
        return Fraction(frame.pts) * Fraction(frame.time_base) - t0
    return fallback


def _stream_start(stream) -> Fraction | None:
    """``stream.start_time`` in seconds, or None when the container does not state it."""
    if stream.start_time is None or stream.time_base is None:
        return None
    return Fraction(stream.start_time) * Fraction(stream.time_base)


def _decode_frames(container, stream, stats: DecodeStats, max_frames: int | None = None):
    """Decode packet by packet so one corrupt packet is counted and skipped, not fatal."""
    n = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError as e:
            stats.corrupt_packets += 1
            if len(stats.errors) < 5:
                stats.errors.append(str(e))
            continue
        for frame in frames:
            stats.decoded += 1
            yield frame
            n += 1
            if max_frames is not None and n >= max_frames:
                return


def iter_frames_at_rate(
    path: str | os.PathLike,
    rate: float,
    transform: FrameFn,
    stats: DecodeStats | None = None,
    skip_nonref: bool = False,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, transform(frame))`` for every index of a ``rate`` Hz grid, streaming.

    Index ``i`` gets the source frame on screen at time ``i / rate`` after the stream start
    (``stream.start_time``, else the first frame's time): the last frame whose
    presentation time is ≤ ``i / rate`` (the first frame for indices before it). Every index
    from 0 to the end of the last frame's display is emitted, so no tail frame is lost.
    ``transform`` runs only on frames that are emitted, so a 30 fps source sampled at 10 Hz
    converts a third of its frames.
    """
    for index, out, _ in iter_grid_windows(path, rate, transform, stats, skip_nonref, windows=False):
        yield index, out


def iter_grid_windows(
    path: str | os.PathLike,
    rate: float,
    transform: FrameFn,
    stats: DecodeStats | None = None,
    skip_nonref: bool = False,
    windows: bool = True,
    hwaccel: str | None = None,
    limits: Limits | None = None,
) -> Iterator[tuple[int, object, list[tuple[Fraction, object]]]]:
    """:func:`iter_frames_at_rate` that also yields, with index ``i``, the window of source
    frames first shown after sample ``i-1`` and up to sample ``i``: ``[(time, transform(frame))]``
    for every frame with ``(i-1)/rate < time ≤ i/rate`` (times from the stream start). Its last
    entry is frame ``i`` itself; it is empty when frame ``i-1`` is still on screen.

    With the windows, a caption boundary found between samples ``i-1`` and ``i`` can be placed
    on its exact source frame without decoding the video again. ``windows=False`` leaves them
    empty and transforms only the emitted frames. ``hwaccel="cuda"`` decodes on NVDEC when the
    machine has one (frames arrive as NV12), in software otherwise.

    A window keeps at most the last :data:`MAX_WINDOW_FRAMES` frames before its sample (the
    ones nearest the boundary it may hold): a real video at ≤ 240 fps shows ≤ 25 frames in
    0.1 s, while a crafted burst of 8,000 must not be held in memory. A frame past
    ``limits.max_duration_s`` or after a jump longer than ``limits.max_gap_s`` raises
    InputTooLarge, whatever the probe measured (frames' times can disagree with packets').
    """
    limits = limits or Limits()
    stats = stats if stats is not None else DecodeStats()
    step = 1 / Fraction(rate).limit_denominator(1000)
    container = _open(path, hwaccel)
    try:
        stream = video_stream(container)
        if skip_nonref:
            stream.codec_context.skip_frame = "NONREF"
        rate_guess = stream.average_rate or stream.guessed_rate or Fraction(25)
        frame_dur = 1 / Fraction(rate_guess)
        # Index i is relative time i/rate from the stream start; without a stated start time
        # the first decoded frame's time is the start.
        t0 = _stream_start(stream)
        next_index = 0
        prev = prev_out = None
        prev_t = Fraction(0)
        window: deque = deque(maxlen=MAX_WINDOW_FRAMES)  # frames shown since the last emitted index

        def emit_until(limit: Fraction):
            nonlocal next_index, window, prev_out
            if next_index * step < limit:  # prev is on screen for at least one grid index
                out = prev_out if windows else transform(prev)
                while next_index * step < limit:
                    yield next_index, out, list(window)
                    window.clear()
                    stats.emitted += 1
                    next_index += 1

        for frame in _decode_frames(container, stream, stats):
            if t0 is None:
                t0 = _frame_time(frame, Fraction(0))
            t = _frame_time(frame, prev_t + frame_dur if prev is not None else Fraction(0), t0)
            if prev is not None and t <= prev_t:
                continue  # duplicate or out-of-order timestamp: keep the first frame shown
            if t > limits.max_duration_s or (prev is not None and t - prev_t > limits.max_gap_s):
                limits.check(0, 0, float(t), 0, name=os.fspath(path), gap=float(t - prev_t), gap_at=float(prev_t))
            if prev is not None:
                yield from emit_until(t)
                frame_dur = t - prev_t
            prev, prev_t = frame, t
            if windows:
                prev_out = transform(frame)
                window.append((t, prev_out))
        if prev is None:
            raise InvalidVideo(f"no decodable frame in {os.fspath(path)}")
        yield from emit_until(prev_t + frame_dur)  # the last frame stays on screen one frame duration
    except av.error.FFmpegError as e:
        raise InvalidVideo(f"decoding failed: {e}") from e
    finally:
        container.close()


def sample_frames(
    path: str | os.PathLike,
    times: Iterable[float],
    transform: FrameFn,
    stats: DecodeStats | None = None,
    reseek_gap: float = 2.0,
    keyframes: Sequence[float] = (),
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield ``(time, transform(frame))`` for the frame on screen at each of ``times`` (ascending).

    ``times`` are seconds from the stream start, the same clock as :func:`iter_frames_at_rate`'s
    indices. For a sparse grid (0.1 Hz) it seeks to the keyframe before each time and decodes
    forward to it, so the whole video is never decoded; targets closer than ``reseek_gap``
    seconds to the decoder's position are reached by decoding on, which is cheaper than a seek,
    unless one of ``keyframes`` (:attr:`VideoInfo.keyframes`) lies between: the seek lands there
    and skips the frames before it.

    A seek that lands after its target (MPEG-TS seeks by timestamp search and can skip past a
    keyframe, or land where nothing more decodes) is retried further back, and finally from the
    start of the file, so a target is never answered with a later frame nor silently dropped.
    """
    stats = stats if stats is not None else DecodeStats()
    targets = sorted(set(float(t) for t in times))
    keys = sorted(keyframes)
    container = _open(path)
    try:
        stream = video_stream(container)
        tb = Fraction(stream.time_base)
        t0 = _stream_start(stream)
        if t0 is None and targets:  # no stated start: the first frame's time is the start
            first = next(_decode_frames(container, stream, stats), None)
            t0 = _frame_time(first, Fraction(0)) if first is not None else Fraction(0)
            container.close()
            container = _open(path)
            stream = video_stream(container)
        t0 = t0 or Fraction(0)

        def position(ft: Fraction):
            """(frames, first frame) with the decoder at or before relative time ``ft``."""
            nonlocal container, stream
            backoff = Fraction(0)
            while True:
                at = ft - backoff
                if at <= 0:  # from the very beginning: a fresh demuxer, no seek to get wrong
                    container.close()
                    container = _open(path)
                    stream = video_stream(container)
                    frames = _decode_frames(container, stream, stats)
                    return frames, next(frames, None)
                container.seek(int((at + t0) / tb), stream=stream, backward=True, any_frame=False)
                frames = _decode_frames(container, stream, stats)
                first = next(frames, None)
                if first is not None and _frame_time(first, Fraction(0), t0) <= ft:
                    return frames, first
                backoff = max(Fraction(1), backoff * 4)  # overshot: 1 s, 4 s, 16 s ... back

        frames: Iterator | None = None
        pending = None  # the first frame past the previous target, not yet consumed
        prev = None
        prev_t = None
        for target in targets:
            ft = Fraction(target).limit_denominator(100000)
            need_seek = (frames is None or prev_t is None or ft - prev_t > reseek_gap or ft < prev_t
                         or _keyframe_between(keys, float(prev_t), target))
            if need_seek:
                frames, pending = position(ft)
                prev, prev_t = None, None
            chosen = None
            while True:
                frame = pending if pending is not None else next(frames, None)
                pending = None
                if frame is None:
                    chosen = prev  # past the end: the last frame stays on screen
                    break
                t = _frame_time(frame, Fraction(0), t0)
                if t > ft:
                    chosen = prev if prev is not None else frame
                    pending = frame
                    break
                prev, prev_t = frame, t
            if chosen is None:
                continue
            stats.emitted += 1
            yield target, transform(chosen)
    except av.error.FFmpegError as e:
        raise InvalidVideo(f"decoding failed: {e}") from e
    finally:
        container.close()


def _keyframe_between(keyframes: Sequence[float], after: float, upto: float) -> bool:
    """A keyframe in (after, upto]: decoding on from ``after`` would decode what a seek skips."""
    k = bisect.bisect_right(keyframes, after + 1e-6)
    return k < len(keyframes) and keyframes[k] <= upto + 1e-6


def _quarter_turns(frame: "av.VideoFrame") -> int:
    """Counterclockwise quarter turns (0..3) that show the frame as its display matrix says.

    ``frame.rotation`` is the matrix's counterclockwise angle (FFmpeg's
    ``av_display_rotation_get``); 0 when the frame has no display matrix. Angles that are not a
    multiple of 90° are rounded to the nearest quarter turn. Flips in the matrix are ignored.
    """
    try:
        angle = frame.rotation
    except Exception:  # noqa: BLE001 - malformed side data: show the frame as stored
        return 0
    if not angle:
        return 0
    return int(round(float(angle) / 90)) % 4


_reformatters = threading.local()


def frame_array(frame: "av.VideoFrame", fmt: str = "rgb24") -> np.ndarray:
    """``frame.to_ndarray(format=fmt)``, the same pixels, through one scaler per thread:
    ``to_ndarray`` builds a new swscale context for every frame, which cost more than the
    conversion itself (a 890×142 caption band: 0.49 ms → 0.16 ms)."""
    r = getattr(_reformatters, "r", None)
    if r is None:
        r = _reformatters.r = VideoReformatter()
    return r.reformat(frame, format=fmt).to_ndarray()


def _upright(frame: "av.VideoFrame", fmt: str = "rgb24") -> np.ndarray:
    """(H, W, 3) in ``fmt`` as displayed; a view (not contiguous) when the frame is rotated."""
    img = frame_array(frame, fmt)
    k = _quarter_turns(frame)
    return np.rot90(img, k) if k else img


def to_rgb(frame: "av.VideoFrame") -> np.ndarray:
    """Whole frame, upright (display rotation applied), as (H, W, 3) uint8 RGB."""
    return np.ascontiguousarray(_upright(frame))


def to_rgb_over_bgr(frame: "av.VideoFrame") -> np.ndarray:
    """Whole frame, upright, as (H, W, 3) uint8 RGB: a channel-reversed view of contiguous BGR
    pixels (the same values as :func:`to_rgb`). An OCR engine that wants OpenCV's BGR
    (RapidOCR) gets it back without a copy: that copy was 8 % of the layout pass's time."""
    return np.ascontiguousarray(_upright(frame, "bgr24"))[..., ::-1]


def crop_transform(box: tuple[int, int, int, int]) -> FrameFn:
    """A transform that returns the (y1-y0, x1-x0, 3) RGB crop ``box = (x0, y0, x1, y1)``,
    ``box`` being in upright (displayed) coordinates: the frame is rotated, then cropped."""
    x0, y0, x1, y1 = box

    def fn(frame: "av.VideoFrame") -> np.ndarray:
        return np.ascontiguousarray(_upright(frame)[y0:y1, x0:x1])

    return fn


def chosen_stream(path: str | os.PathLike, index: int) -> str:
    """Check that stream ``index`` (the container's numbering, as ffprobe's ``0:N``) of ``path``
    is a video stream; returns a description of it. Raises InvalidVideo naming the video
    streams there are."""
    container = _open(path)
    try:
        videos = [st for st in container.streams.video]
        match = [st for st in container.streams if st.index == index]
        if not match or match[0].type != "video":
            listed = ", ".join(f"{st.index} ({st.codec_context.width}x{st.codec_context.height})" for st in videos)
            raise InvalidVideo(f"no video stream {index} in {os.fspath(path)}; its video streams: {listed}")
        cc = match[0].codec_context
        return f"stream {index} ({cc.name} {cc.width}x{cc.height})"
    finally:
        container.close()


def remux_stream(path: str | os.PathLike, index: int, dest: str | os.PathLike) -> None:
    """Copy video stream ``index`` of ``path``, packets untouched, alone into a Matroska file
    ``dest``: every later pass then reads that stream (``--stream N``)."""
    chosen_stream(path, index)
    src = av.open(os.fspath(path))
    try:
        ist = next(st for st in src.streams if st.index == index)
        with av.open(os.fspath(dest), "w", format="matroska") as out:
            ost = out.add_stream_from_template(ist)
            for packet in src.demux(ist):
                if packet.size == 0:  # the demuxer's end-of-stream flush packet
                    continue
                packet.stream = ost
                out.mux(packet)
    except av.error.FFmpegError as e:
        raise InvalidVideo(f"cannot copy stream {index} of {os.fspath(path)}: {e}") from e
    finally:
        src.close()
