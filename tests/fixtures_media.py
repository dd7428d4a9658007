"""Generators for the bad-input matrix: small real media files, good and broken.

Every generator writes a real file with the bundled FFmpeg (PyAV) or damages one byte-exactly,
so the tests exercise the decoder the product really runs. Sizes are tiny (160x90, a few
seconds) to keep the suite fast on a shared two-core machine.
"""

from __future__ import annotations

import os
import struct
from fractions import Fraction
from typing import Callable, Sequence

import av
import numpy as np

W, H = 160, 90
CAPTION = "HELLO 42"


def encoder_available(name: str) -> bool:
    """True when the bundled FFmpeg has the encoder (``av.codecs_available`` lists both ways)."""
    if name not in av.codecs_available:
        return False
    try:
        av.codec.Codec(name, "w")
        return True
    except Exception:  # noqa: BLE001 - a decoder-only build
        return False


def _caption_layer(width: int, height: int, text: str) -> np.ndarray | None:
    """RGBA overlay of a white, black-outlined caption in the bottom band (None if no font)."""
    from PIL import Image, ImageDraw, ImageFont

    try:
        from synth.fonts import font_for

        font = ImageFont.truetype(font_for(text), max(10, int(height * 0.2)))
    except Exception:  # noqa: BLE001 - no font on this machine: plain bitmap font
        font = ImageFont.load_default()
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    tw = d.textlength(text, font=font)
    size = getattr(font, "size", 10)
    d.text(((width - tw) / 2, height - int(size * 1.6)), text, font=font, fill=(255, 255, 255, 255),
           stroke_width=max(1, size // 10), stroke_fill=(0, 0, 0, 255))
    return np.asarray(layer)


def frame_image(j: int, width: int, height: int, caption: np.ndarray | None = None) -> np.ndarray:
    """Frame ``j``: its number as the grey level of the top-left block (readable back after
    lossy coding), a moving gradient elsewhere, and an optional caption overlay."""
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack([(xx + 3 * j) % 200, (yy + 2 * j) % 200, ((xx + yy) // 2 + j) % 200], -1).astype(np.uint8) // 2 + 30
    bw, bh = max(2, width // 4), max(2, height // 4)
    img[:bh, :bw] = min(248, 8 + 8 * j)  # frames 0..30 readable within +-3 grey levels
    if caption is not None:
        a = caption[..., 3:4].astype(np.float32) / 255
        img = (img * (1 - a) + caption[..., :3] * a).astype(np.uint8)
    return np.ascontiguousarray(img)


def frame_number(img: np.ndarray) -> int:
    h, w = img.shape[:2]
    block = img[: max(2, h // 4) // 2, : max(2, w // 4) // 2]
    return int(round((float(block.mean()) - 8) / 8))


def encode(
    path: str,
    *,
    codec: str = "libx264",
    width: int = W,
    height: int = H,
    n: int = 20,
    fps: int | Fraction = 10,
    pix_fmt: str = "yuv420p",
    options: dict | None = None,
    fmt: str | None = None,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    rotation: int | None = None,
    caption: str | None = None,
    caption_frames: range | None = None,
    frame_fn: Callable[[int], np.ndarray] | None = None,
) -> str:
    """Encode ``n`` frames; ``pts``/``time_base`` give a variable frame rate, ``rotation`` a
    display matrix, ``caption`` burns text into ``caption_frames`` (all frames by default)."""
    fps = Fraction(fps)
    layer = _caption_layer(width, height, caption) if caption else None
    shown = caption_frames if caption_frames is not None else range(n)
    with av.open(path, "w", format=fmt) as out:
        s = out.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = width, height, pix_fmt
        if options:
            s.options = dict(options)
        tb = time_base or (1 / fps)
        s.codec_context.time_base = tb
        s.time_base = tb
        if rotation is not None:
            s.set_display_rotation(rotation)
        for j in range(n):
            img = frame_fn(j) if frame_fn else frame_image(j, width, height, layer if j in shown else None)
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = pts[j] if pts is not None else j
            f.time_base = tb
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


# --- good but unusual inputs -------------------------------------------------------------------


def h264(path: str, **kw) -> str:
    kw.setdefault("options", {"g": "10", "bf": "2", "crf": "18", "preset": "ultrafast"})
    return encode(path, **kw)


def one_frame(path: str) -> str:
    return h264(path, n=1)


def huge_8k(path: str) -> str:
    """One 7680x4320 frame: the geometry is real, the cost stays small."""
    return h264(path, width=7680, height=4320, n=1, frame_fn=lambda j: np.full((4320, 7680, 3), 40, np.uint8))


def tiny_16(path: str) -> str:
    return h264(path, width=16, height=16, n=10)


def odd_width(path: str) -> str:
    """161x91: 4:2:0 needs even sizes, so 4:4:4 H.264 (what screen recorders produce)."""
    return h264(path, width=161, height=91, n=10, pix_fmt="yuv444p")


def rotated(path: str, degrees: int = 90) -> str:
    """Landscape pixels with a display matrix saying 'show me rotated' (a phone recording)."""
    return h264(path, n=10, rotation=degrees)


def vfr(path: str) -> str:
    """Variable frame rate: frames at irregular millisecond times (0, 40, 200, 210, 600, ...)."""
    gaps = [40, 160, 10, 390, 100, 33, 33, 400, 67, 100, 20, 80, 300, 100, 50, 50, 50, 200, 100]
    pts = [0]
    for g in gaps:
        pts.append(pts[-1] + g)
    return h264(path, n=len(pts), pts=pts, time_base=Fraction(1, 1000), fps=10)


VFR_PTS_MS_END = 2323  # last pts of vfr() in ms


def interlaced(path: str) -> str:
    """Field-coded MPEG-2 in an MPEG-TS: a broadcast capture (its timestamps start at 0.1 s)."""
    return encode(path, codec="mpeg2video", fmt="mpegts", n=10, options={"flags": "+ilme+ildct", "top": "1",
                                                                         "g": "5"})


def ts_with_start_offset(path: str, offset_s: int = 60, n: int = 20) -> str:
    """MPEG-TS whose first timestamp is ``offset_s`` seconds: a recording cut from a live
    broadcast. Frame j is on screen at j/10 s of the *video*, whatever the clock said."""
    return encode(path, codec="mpeg2video", fmt="mpegts", n=n, pts=[offset_s * 10 + j for j in range(n)])


def ten_bit(path: str) -> str:
    return h264(path, n=10, pix_fmt="yuv420p10le")


def hevc(path: str, **kw) -> str:
    return encode(path, codec="libx265", options={"preset": "ultrafast", "crf": "18", "x265-params": "log-level=error"}, **kw)


def vp9(path: str, **kw) -> str:
    return encode(path, codec="libvpx-vp9", fmt="webm",
                  options={"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}, **kw)


def av1(path: str, **kw) -> str:
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner to stderr otherwise
    return encode(path, codec="libsvtav1", options={"preset": "12"}, **kw)


# --- broken inputs ---------------------------------------------------------------------------


def empty(path: str) -> str:
    open(path, "wb").close()
    return path


def random_bytes(path: str, n: int = 5000) -> str:
    with open(path, "wb") as f:
        f.write(np.random.default_rng(7).integers(0, 256, n, dtype=np.uint8).tobytes())
    return path


def image_as_mp4(path: str) -> str:
    """A PNG renamed .mp4. FFmpeg opens it as a one-frame 'video'; see the test for the decision."""
    from PIL import Image

    Image.fromarray(frame_image(0, W, H)).save(path, format="PNG")
    return path


def jpeg_as_mp4(path: str) -> str:
    from PIL import Image

    Image.fromarray(frame_image(0, W, H)).save(path, format="JPEG")
    return path


def audio_only(path: str) -> str:
    with av.open(path, "w", format="mp4") as out:
        s = out.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for _ in range(10):
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def zero_frames(path: str) -> str:
    """A valid MP4 header with a video stream and no frames at all (zero duration)."""
    with av.open(path, "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        out.start_encoding()
    return path


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """Top-level (or nested) ISO-BMFF boxes: (type, offset, size)."""
    end = len(data) if end is None else end
    i = start
    while i + 8 <= end:
        size, typ = struct.unpack(">I4s", data[i:i + 8])
        if size == 1:
            size = struct.unpack(">Q", data[i + 8:i + 16])[0]
        elif size == 0:
            size = end - i
        if size < 8:
            break
        yield typ.decode("latin-1"), i, size
        i += size


def _faststart_free(src: str, dst: str, drop: str) -> str:
    data = open(src, "rb").read()
    out = b"".join(data[o:o + s] for t, o, s in _boxes(data) if t != drop)
    with open(dst, "wb") as f:
        f.write(out)
    return dst


def moov_missing(src: str, dst: str) -> str:
    """An upload that stopped before the index: ftyp + mdat, no moov."""
    return _faststart_free(src, dst, "moov")


def cut_mid_mdat(src: str, dst: str) -> str:
    """The file cut halfway through the sample data (moov written first, as faststart does)."""
    data = open(src, "rb").read()
    boxes = {t: (o, s) for t, o, s in _boxes(data)}
    o, s = boxes["mdat"]
    if boxes["moov"][0] > o:  # moov at the end: move it first so the cut keeps the index
        mo, ms = boxes["moov"]
        moov = data[mo:mo + ms]
        # chunk offsets (stco) shift by the moov size when it moves ahead of mdat
        moov = _shift_stco(moov, ms)
        data = data[:o] + moov + data[o:mo] + data[mo + ms:]
        o += ms
    with open(dst, "wb") as f:
        f.write(data[: o + s // 2])
    return dst


def _shift_stco(moov: bytes, delta: int) -> bytes:
    buf = bytearray(moov)
    i = 0
    while True:
        i = buf.find(b"stco", i)
        if i < 0:
            break
        n = struct.unpack(">I", buf[i + 8:i + 12])[0]
        for k in range(n):
            p = i + 12 + 4 * k
            buf[p:p + 4] = struct.pack(">I", struct.unpack(">I", buf[p:p + 4])[0] + delta)
        i += 4
    return bytes(buf)


def sample_table(path: str) -> list[tuple[int, int]]:
    """(offset, size) of every video sample, read from the first stco/stsz/stsc (one track)."""
    data = open(path, "rb").read()
    sz_i = data.find(b"stsz")
    fixed, count = struct.unpack(">II", data[sz_i + 8:sz_i + 16])
    sizes = [fixed] * count if fixed else list(struct.unpack(f">{count}I", data[sz_i + 16:sz_i + 16 + 4 * count]))
    co_i = data.find(b"stco")
    nch = struct.unpack(">I", data[co_i + 8:co_i + 12])[0]
    offs = list(struct.unpack(f">{nch}I", data[co_i + 12:co_i + 12 + 4 * nch]))
    sc_i = data.find(b"stsc")
    nsc = struct.unpack(">I", data[sc_i + 8:sc_i + 12])[0]
    runs = [struct.unpack(">III", data[sc_i + 12 + 12 * k:sc_i + 24 + 12 * k]) for k in range(nsc)]
    per_chunk = []
    for c in range(1, nch + 1):
        spc = [r[1] for r in runs if r[0] <= c][-1]
        per_chunk.append(spc)
    out, s = [], 0
    for c, off in enumerate(offs):
        for _ in range(per_chunk[c]):
            out.append((off, sizes[s]))
            off += sizes[s]
            s += 1
    return out


def corrupt_samples(src: str, dst: str, which: Sequence[int]) -> str:
    """Overwrite the payload of samples ``which`` with junk (container intact: a bad sector,
    a broken camera write). The decoder must skip them and count them."""
    data = bytearray(open(src, "rb").read())
    table = sample_table(src)
    rng = np.random.default_rng(3)
    for k in which:
        off, size = table[k]
        data[off:off + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    with open(dst, "wb") as f:
        f.write(bytes(data))
    return dst


def mjpeg(path: str, n: int = 20) -> str:
    """Every frame an independent JPEG: one damaged sample damages exactly one frame."""
    return encode(path, codec="mjpeg", pix_fmt="yuvj420p", n=n, fmt="mp4", options={"q:v": "3"})
