"""VP9 WebM chunks of cropped frames in the disjoint modulo 16/4/1 hierarchy, and their manifest.

Level 16 holds i % 16 == 0, level 4 holds i % 4 == 0 and i % 16 != 0, level 1 the rest, so a
client loads coarse first and refines without fetching a frame twice. Chunk k of level M covers
frame indices [k·32·M, (k+1)·32·M); the last partial chunk of every level is written too.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import av
import numpy as np

from gpu_kernels.band import Band
from gpu_kernels.video import frame_array

from .errors import CorruptData, InvalidFrameRange, MissingObject
from .keys import manifest_key
from .storage import Storage

LEVELS = (16, 4, 1)
CHUNK_SPAN = 32  # chunk k of level M spans 32·M frame indices
MANIFEST_FORMAT = 1

# Realtime VP9: small crops encode at hundreds of fps; two threads per encoder help ~15%.
VP9_OPTIONS = {"deadline": "realtime", "cpu-used": "8", "row-mt": "1", "crf": "32", "b": "0",
               "lag-in-frames": "0", "threads": "2"}


def level_of(i: int) -> int:
    if i % 16 == 0:
        return 16
    if i % 4 == 0:
        return 4
    return 1


def chunk_index_of(i: int, level: int) -> int:
    return i // (CHUNK_SPAN * level)


@dataclass
class ChunkInfo:
    key: str  # relative to the version prefix: modulo_{M}/chunk_{NNNN}.webm
    modulo: int
    chunk_index: int
    frame_indices: list[int] = field(default_factory=list)
    bytes: int = 0


class _Encoder:
    """One open WebM file for one chunk of one level."""

    def __init__(self, path: str, width: int, height: int) -> None:
        self.path = path
        self.container = av.open(path, "w", format="webm")
        self.stream = self.container.add_stream("libvpx-vp9", rate=10)
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, "yuv420p"
        self.stream.options = dict(VP9_OPTIONS)
        self.stream.time_base = Fraction(1, 10)

    def add(self, index: int, image: "np.ndarray | Band") -> None:
        # A YUV band goes in as decoded; an RGB array is converted by the encoder's scaler.
        frame = image.video_frame() if isinstance(image, Band) else av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = index  # WebM timestamps are the 10 Hz index: time = index / 10
        frame.time_base = Fraction(1, 10)
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()


class ChunkWriter:
    """Takes cropped frames in index order, writes each chunk as soon as it is whole.

    ``publish(relative_key, local_path)`` uploads one finished chunk. The manifest is returned
    by :meth:`finish` for the caller to publish last, after every chunk is stored.
    """

    def __init__(self, width: int, height: int, publish: Callable[[str, str], None]) -> None:
        self.width, self.height = width, height
        self.publish = publish
        self._dir = tempfile.mkdtemp(prefix="captionacc-chunks-")
        self._open: dict[int, tuple[ChunkInfo, _Encoder]] = {}
        self.chunks: list[ChunkInfo] = []
        self.frame_count = 0
        self._last = -1

    def add(self, index: int, image: "np.ndarray | Band") -> None:
        """Frame ``index``: an (h, w, 3) RGB array or a :class:`~gpu_kernels.band.Band`."""
        if index <= self._last:
            raise ValueError(f"frame indices must increase: {index} after {self._last}")
        shape = (image.height, image.width) if isinstance(image, Band) else image.shape[:2]
        if shape != (self.height, self.width):
            raise ValueError(f"frame shape {shape} differs from {(self.height, self.width)}")
        self._last = index
        level = level_of(index)
        k = chunk_index_of(index, level)
        cur = self._open.get(level)
        if cur is not None and cur[0].chunk_index != k:
            self._finish(level)
            cur = None
        if cur is None:
            rel = f"modulo_{level}/chunk_{k:04d}.webm"
            path = os.path.join(self._dir, f"m{level}_c{k}.webm")
            cur = (ChunkInfo(rel, level, k), _Encoder(path, self.width, self.height))
            self._open[level] = cur
        cur[1].add(index, image)
        cur[0].frame_indices.append(index)
        self.frame_count += 1

    def _finish(self, level: int) -> None:
        info, enc = self._open.pop(level)
        enc.close()
        info.bytes = os.path.getsize(enc.path)
        self.publish(info.key, enc.path)
        os.unlink(enc.path)
        self.chunks.append(info)

    def finish(self, **extra) -> dict:
        for level in list(self._open):
            self._finish(level)
        self.close()
        chunks = sorted(self.chunks, key=lambda c: (-c.modulo, c.chunk_index))
        return {
            "format": MANIFEST_FORMAT,
            "frame_rate": 10.0,
            "frame_count": self.frame_count,
            "width": self.width,
            "height": self.height,
            "codec": "vp9",
            "levels": list(LEVELS),
            "chunk_span": CHUNK_SPAN,
            "chunks": [
                {"key": c.key, "modulo": c.modulo, "chunk_index": c.chunk_index,
                 "frame_indices": c.frame_indices, "bytes": c.bytes}
                for c in chunks
            ],
            **extra,
        }

    def close(self) -> None:
        for _level, (_info, enc) in list(self._open.items()):
            try:
                enc.container.close()
            except Exception:  # noqa: BLE001 - best effort on an abandoned chunk
                pass
        self._open.clear()
        shutil.rmtree(self._dir, ignore_errors=True)


def load_manifest(storage: Storage, prefix: str) -> dict:
    key = manifest_key(prefix)
    try:
        manifest = json.loads(storage.get_bytes(key))
    except MissingObject as e:
        raise MissingObject(f"no manifest at {key}: the cropped frames version is missing or incomplete") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise CorruptData(f"manifest {key} is not valid JSON") from e
    _validate_manifest(manifest, key)
    return manifest


_CHUNK_KEY_RE = re.compile(r"modulo_(1|4|16)/chunk_([0-9]{4,})\.webm")


def _validate_manifest(m, key: str) -> None:
    """Types and keys checked: a manifest is read by workers that build storage keys from it."""
    def bad(why: str):
        raise CorruptData(f"manifest {key} is invalid: {why}")

    if not isinstance(m, dict):
        bad("not an object")
    fc = m.get("frame_count")
    if not isinstance(fc, int) or isinstance(fc, bool) or fc < 0:
        bad("frame_count must be a non-negative integer")
    chunks = m.get("chunks")
    if not isinstance(chunks, list):
        bad("chunks must be a list")
    for c in chunks:
        if not isinstance(c, dict):
            bad("a chunk entry is not an object")
        mod, k, rel, idx = c.get("modulo"), c.get("chunk_index"), c.get("key"), c.get("frame_indices")
        if not isinstance(mod, int) or not isinstance(k, int) or not isinstance(rel, str):
            bad("chunk modulo/chunk_index/key have wrong types")
        match = _CHUNK_KEY_RE.fullmatch(rel)
        if not match or int(match.group(1)) != mod or int(match.group(2)) != k:
            bad(f"chunk key {rel!r} does not match modulo_{mod}/chunk_{k:04d}.webm")
        if not isinstance(idx, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in idx):
            bad(f"frame_indices of {rel} must be integers")


def plan_chunks(manifest: dict, start: int, end: int, want: int) -> list[dict]:
    """Chunks to read for frames in [start, end): coarse levels first, finer only while fewer
    than ``want`` frames are covered — a long caption never touches its level-1 chunks."""
    chosen: list[dict] = []
    have = 0
    for level in manifest.get("levels", LEVELS):
        if have >= want:
            break
        for c in manifest["chunks"]:
            if c["modulo"] != level:
                continue
            inside = [i for i in c["frame_indices"] if start <= i < end]
            if inside:
                chosen.append(c)
                have += len(inside)
    return chosen


class ChunkReader:
    """Reads frames of one cropped-frames version; decoded chunks are kept in a small LRU so
    consecutive captions that share a chunk decode it once, not once per caption."""

    def __init__(self, storage: Storage, prefix: str, cache_chunks: int = 6) -> None:
        self.storage, self.prefix = storage, prefix.rstrip("/")
        self.manifest = load_manifest(storage, self.prefix)
        self.cache_chunks = cache_chunks
        self._cache: OrderedDict[tuple[str, str], list[np.ndarray]] = OrderedDict()
        self.chunks_decoded = 0

    @property
    def frame_count(self) -> int:
        return int(self.manifest["frame_count"])

    def _chunk(self, c: dict, fmt: str) -> list[np.ndarray]:
        key = c["key"]
        if (key, fmt) in self._cache:
            self._cache.move_to_end((key, fmt))
            return self._cache[key, fmt]
        with self.storage.open_local(f"{self.prefix}/{key}", suffix=".webm") as path:
            decoded = _decode_chunk(path, key, fmt)
        if len(decoded) != len(c["frame_indices"]):
            raise CorruptData(f"chunk {key} has {len(decoded)} frames, manifest says {len(c['frame_indices'])}")
        self.chunks_decoded += 1
        self._cache[key, fmt] = decoded
        while len(self._cache) > self.cache_chunks:
            self._cache.popitem(last=False)
        return decoded

    def frames(self, start: int, end: int, want: int = 31, fmt: str = "rgb24") -> tuple[list[int], np.ndarray]:
        """Frames with index in [start, end) from the fewest chunks that give ``want`` of them.

        Returns (indices, (N, H, W, 3) uint8), or with ``fmt="yuv420p"`` the decoder's own
        planes as (N, H·3/2, W) — no RGB conversion, for callers that reduce many frames to one.
        Raises InvalidFrameRange, MissingObject, CorruptData.
        """
        if fmt not in ("rgb24", "yuv420p"):
            raise ValueError(f"fmt must be rgb24 or yuv420p, got {fmt!r}")
        check_range(start, end, self.frame_count)
        indices: list[int] = []
        frames: list[np.ndarray] = []
        for c in plan_chunks(self.manifest, start, end, want):
            for i, img in zip(c["frame_indices"], self._chunk(c, fmt)):
                if start <= i < end:
                    indices.append(i)
                    frames.append(img)
        order = np.argsort(indices)
        return [indices[k] for k in order], np.stack([frames[k] for k in order])

    def close(self) -> None:
        self._cache.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_range(start: int, end: int, frame_count: int) -> None:
    if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
        raise InvalidFrameRange(f"frame range must be integers, got {start!r}, {end!r}")
    if start < 0 or start >= end:
        raise InvalidFrameRange(f"empty or negative frame range [{start}, {end})")
    if end > frame_count:
        raise InvalidFrameRange(f"frame range [{start}, {end}) ends past the video's {frame_count} frames")


def read_frames(storage: Storage, prefix: str, start: int, end: int, want: int = 31
                ) -> tuple[list[int], np.ndarray]:
    """One-off read of frames in [start, end); see :meth:`ChunkReader.frames`."""
    check_range(start, end, 1 << 62)  # cheap checks before any download
    with ChunkReader(storage, prefix) as reader:
        return reader.frames(start, end, want)


def _decode_chunk(path: str, key: str, fmt: str = "rgb24") -> list[np.ndarray]:
    try:
        with av.open(path) as c:
            return [frame_array(f, fmt) for f in c.decode(video=0)]
    except (av.error.FFmpegError, IndexError) as e:
        raise CorruptData(f"chunk {key} cannot be decoded: {e}") from e
