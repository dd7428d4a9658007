import os
import subprocess

import av
import numpy as np
import pytest

from gpu_kernels.crop import region_to_box
from gpu_kernels.errors import InvalidCropRegion, InvalidVideo
from gpu_kernels.video import DecodeStats, iter_frames_at_rate, probe, sample_frames, to_rgb


def _index_clip(path, n=40, fps=24):
    """Each frame shows its own number as a grey level, so tests can tell which frame came out."""
    with av.open(path, "w") as out:
        s = out.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.options = {"g": "12", "bf": "2", "crf": "10"}
        for j in range(n):
            img = np.full((48, 64, 3), 5 * j + 10, np.uint8)
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = j
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)


def _which(frame):
    return int(round((frame.mean() - 10) / 5))


@pytest.fixture(scope="module")
def index_clip(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("v") / "idx.mp4")
    _index_clip(path)
    return path


def test_probe(index_clip):
    info = probe(index_clip)
    assert (info.width, info.height, info.codec) == (64, 48, "h264")
    assert info.fps == pytest.approx(24)
    assert info.duration == pytest.approx(40 / 24, abs=0.05)


def test_dense_decoding_at_10hz_picks_the_frame_on_screen(index_clip):
    stats = DecodeStats()
    got = list(iter_frames_at_rate(index_clip, 10.0, to_rgb, stats))
    # 40 frames at 24 fps last 1.6667 s: indices 0..16 (index 16 is t=1.6 < 1.6667).
    assert [i for i, _ in got] == list(range(17))
    for i, img in got:
        # frame on screen at t = i/10 is floor(i/10 * 24)
        assert _which(img) == int(np.floor(i / 10 * 24 + 1e-9)), i
    assert stats.decoded == 40 and stats.emitted == 17 and stats.corrupt_packets == 0


def test_sampled_decoding_seeks_to_each_time(index_clip):
    got = list(sample_frames(index_clip, [0.0, 0.5, 1.0, 1.5], to_rgb, reseek_gap=0.0))
    assert [t for t, _ in got] == [0.0, 0.5, 1.0, 1.5]
    assert [_which(img) for _, img in got] == [0, 12, 24, 36]


def test_probe_lists_keyframes_and_sampling_seeks_past_them(index_clip):
    """A GOP of 12 at 24 fps: keyframes every 0.5 s. Decoding on from 0.0 to 1.05 would decode
    every frame up to 25; with the keyframes known it seeks to 1.0 and decodes 2 frames there.
    The frames are the same either way: the one on screen at each time."""
    info = probe(index_clip)
    assert info.keyframes[:3] == pytest.approx((0.0, 0.5, 1.0))
    times = [0.0, 1.05]
    plain, fast = DecodeStats(), DecodeStats()
    a = list(sample_frames(index_clip, times, to_rgb, plain))
    b = list(sample_frames(index_clip, times, to_rgb, fast, keyframes=info.keyframes))
    assert [_which(img) for _, img in a] == [_which(img) for _, img in b] == [0, 25]
    assert fast.decoded < plain.decoded and fast.decoded <= 8


def test_keyframes_are_kept_one_per_tenth_of_a_second(tmp_path):
    """An all-intra file (every frame a keyframe) keeps the first keyframe of each 0.1 s: what
    a seek decision needs, bounded by the duration rather than the frame count."""
    from .fixtures_media import encode

    path = encode(str(tmp_path / "intra.mp4"), n=180, fps=60, options={"g": "1"})
    keys = probe(path).keyframes
    assert len(keys) == 30 and keys[:3] == pytest.approx((0.0, 0.1, 0.2))


def test_crop_box_is_even_and_validated():
    assert region_to_box(0.1, 0.8, 0.9, 0.95, 1920, 1080) == (192, 864, 1728, 1026)
    for bad in [(-0.1, 0, 1, 1), (0, 0, 1.2, 1), (0.5, 0.1, 0.4, 0.2), (0.2, 0.5, 0.8, 0.5),
                (0.5, 0.5, 0.5001, 0.6)]:
        with pytest.raises(InvalidCropRegion):
            region_to_box(*bad, 1920, 1080)


def test_bad_files_raise_invalid_video(tmp_path, index_clip):
    missing = tmp_path / "missing.mp4"
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(os.urandom(5000))
    truncated = tmp_path / "truncated.mp4"
    data = open(index_clip, "rb").read()
    truncated.write_bytes(data[: len(data) // 3])
    audio = tmp_path / "audio.m4a"
    with av.open(str(audio), "w") as out:
        s = out.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for _ in range(5):
            for p in s.encode(frame):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    for path in [missing, empty, garbage, truncated, audio]:
        with pytest.raises(InvalidVideo):
            probe(str(path))


@pytest.mark.skipif(not __import__("shutil").which("ffmpeg"), reason="needs the ffmpeg CLI to mux cover art")
def test_cover_art_stream_first_is_skipped(tmp_path, index_clip):
    """Many files carry cover art as a picture stream, often stream 0 (Matroska keeps the order
    given): the video is the other stream. Before, stream 0 was decoded: one still, no captions."""
    from PIL import Image

    cover = tmp_path / "cover.png"
    Image.new("RGB", (320, 320), (200, 30, 30)).save(cover)
    out = tmp_path / "with_cover.mkv"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(cover), "-i", index_clip, "-map", "0", "-map", "1",
                    "-c:v:0", "png", "-c:v:1", "copy", "-disposition:v:0", "attached_pic",
                    "-disposition:v:1", "default", str(out)], check=True)
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "png"
    info = probe(str(out))
    assert (info.width, info.height) == (64, 48)
    # The counting clip's frames, in order (Matroska rounds times to milliseconds: a frame may
    # land one earlier than in the MP4), never the red cover.
    got = [_which(f) for _, f in iter_frames_at_rate(str(out), 10.0, to_rgb)]
    assert got == sorted(got) and len(set(got)) >= 15 and got[0] == 0
    assert abs(_which(next(iter(sample_frames(str(out), [0.5], to_rgb)))[1]) - 12) <= 1


def test_rgb_over_bgr_is_the_same_rgb_and_gives_bgr_without_a_copy(tmp_path):
    """The layout pass decodes frames as RGB views of BGR pixels: the same values as to_rgb,
    RapidOCR's BGR copy becomes free, and the frame JPEGs come out byte for byte as from RGB."""
    import io

    from PIL import Image

    from gpu_kernels.video import to_rgb_over_bgr
    from tasks.extract import _jpeg
    from tasks.ocr.rapid import RapidOcrEngine

    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p")
    rgb, view = to_rgb(frame), to_rgb_over_bgr(frame)
    assert np.array_equal(view, rgb)
    bgr = RapidOcrEngine._bgr(view)
    assert np.shares_memory(bgr, view) and np.array_equal(bgr, rgb[..., ::-1])
    for width, quality in ((None, 90), (32, 80)):
        pil = Image.fromarray(rgb)
        if width:
            pil = pil.resize((width, round(pil.height * width / pil.width)), Image.BILINEAR)
        buf = io.BytesIO()
        pil.save(buf, format="JPEG", quality=quality)
        assert _jpeg(view, width, quality) == buf.getvalue()
