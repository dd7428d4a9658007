"""YUV band crops and the per-sample source-frame windows used for single-pass refinement."""

from fractions import Fraction

import av
import numpy as np
import pytest

from gpu_kernels.band import Band, band_cropper
from gpu_kernels.video import crop_transform, frame_array, iter_frames_at_rate, iter_grid_windows, to_rgb
from tests import fixtures_media as media


@pytest.fixture(scope="module")
def clip25(tmp_path_factory):
    """25 fps with B-frames: 10 Hz samples fall between source frames unevenly (2 or 3 apart)."""
    return media.h264(str(tmp_path_factory.mktemp("bw") / "c25.mp4"), n=60, fps=25, width=160, height=96)


@pytest.mark.parametrize("box", [(0, 60, 160, 96), (20, 10, 150, 90), (2, 2, 8, 6)])
def test_band_is_bit_identical_to_cropping_the_rgb_frame(clip25, box):
    crop = band_cropper(box)
    with av.open(clip25) as c:
        for frame in list(c.decode(video=0))[:5]:
            band = crop(frame)
            assert band.fmt == "yuv420p" and (band.height, band.width) == (box[3] - box[1], box[2] - box[0])
            assert np.array_equal(band.rgb(), crop_transform(box)(frame))


@pytest.mark.parametrize("make", [media.rotated, media.odd_width])
def test_rotated_and_444_video_take_the_rgb_path(tmp_path, make):
    path = make(str(tmp_path / "v.mp4"))
    with av.open(path) as c:
        frame = next(c.decode(video=0))
        w, h = to_rgb(frame).shape[1], to_rgb(frame).shape[0]
        box = (0, 0, w - w % 2, h - h % 2)
        band = band_cropper(box)(frame)
    assert band.fmt == "rgb24"
    assert np.array_equal(band.rgb(), crop_transform(box)(frame))


def _number(frame) -> int:
    return round(frame.pts * frame.time_base * 25)


def test_windows_partition_the_source_frames(clip25):
    got = list(iter_grid_windows(clip25, 10.0, _number))
    dense = list(iter_frames_at_rate(clip25, 10.0, _number))
    assert [(i, o) for i, o, _ in got] == dense  # same samples as the plain iterator
    step = Fraction(1, 10)
    seen = []
    for i, pts, window in got:
        for t, p in window:
            assert (i - 1) * step < t <= i * step  # shown first after sample i-1, by sample i
        if window:
            assert window[-1][1] == pts  # the sample's own frame closes its window
        seen += [p for _, p in window]
    # Every source frame up to the last sample (2.3 s = frame 57), once, in order; the two
    # after it follow the last sample and belong to no window.
    assert seen == list(range(58)) and got[-1][0] == 23
    # 25 fps at 10 Hz: windows hold 2 or 3 frames once the video is under way.
    assert {len(w) for _, _, w in got[1:]} == {2, 3}


def test_windows_off_transform_only_the_samples(clip25):
    calls = []
    list(iter_grid_windows(clip25, 10.0, lambda f: calls.append(f.pts), windows=False))
    assert len(calls) == 24  # 2.4 s at 10 Hz, not 60 source frames


def test_chunk_writer_takes_yuv_bands_and_reads_back_both_ways(tmp_path, clip25):
    from tasks.chunks import ChunkReader, ChunkWriter
    from tasks.storage import LocalStorage

    storage = LocalStorage(str(tmp_path))
    box = (0, 32, 160, 96)
    writer = ChunkWriter(160, 64, lambda rel, local: storage.put_file(f"v/{rel}", local, "video/webm"))
    bands = [b for _, b, _ in iter_grid_windows(clip25, 10.0, band_cropper(box), windows=False)]
    for i, b in enumerate(bands):
        writer.add(i, b)
    import json

    storage.put_bytes("v/manifest.json", json.dumps(writer.finish()).encode(), "application/json")
    with pytest.raises(ValueError):
        ChunkWriter(160, 62, lambda *a: None).add(0, bands[0])  # wrong size is refused
    with ChunkReader(storage, "v") as reader:
        idx, rgb = reader.frames(0, len(bands), want=len(bands))
        _, yuv = reader.frames(0, len(bands), want=len(bands), fmt="yuv420p")
        with pytest.raises(ValueError):
            reader.frames(0, 2, fmt="nv12")
    assert idx == list(range(len(bands))) and yuv.shape == (len(bands), 96, 160)
    assert np.array_equal(Band(yuv[3], "yuv420p").rgb(), rgb[3])
    # Lossy VP9, but the band went in as decoded YUV: close to the source crop.
    err = np.abs(rgb.astype(int) - np.stack([b.rgb() for b in bands]).astype(int)).mean()
    assert err < 6, err


def test_nv12_frames_from_hardware_decoders_crop_like_yuv420p(clip25):
    box = (20, 10, 150, 90)
    with av.open(clip25) as c:
        frame = next(c.decode(video=0))
    nv12 = frame.reformat(format="nv12")  # what NVDEC hands back after download
    band = band_cropper(box)(nv12)
    assert band.fmt == "yuv420p"
    assert np.array_equal(band.data, band_cropper(box)(frame).data)


def test_hardware_decoding_request_decodes_the_same_frames(clip25):
    """On this machine (no GPU) the request falls back to software; on a CUDA box it is NVDEC,
    and H.264 decoding is bit-exact either way."""
    soft = list(iter_grid_windows(clip25, 10.0, _number))
    hard = list(iter_grid_windows(clip25, 10.0, _number, hwaccel="cuda"))
    assert hard == soft


def test_frame_array_converts_like_to_ndarray_with_one_scaler_per_thread():
    """The shared scaler must follow each frame's own format, colour space, range and size, not
    the previous frame's: frames of several kinds go through it in turn."""
    rng = np.random.default_rng(0)
    kinds = [("yuv420p", 2, 0, 96, 160), ("yuv420p", 1, 1, 96, 160), ("yuvj420p", 5, 2, 48, 64),
             ("nv12", 1, 1, 96, 160), ("yuv420p", 2, 0, 48, 64), ("yuv420p", 1, 2, 96, 160)]
    for fmt, colorspace, color_range, h, w in kinds:
        f = av.VideoFrame.from_ndarray(rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8), format=fmt)
        f.colorspace, f.color_range = colorspace, color_range
        for out in ("rgb24", "gray"):
            assert np.array_equal(frame_array(f, out), f.to_ndarray(format=out)), (fmt, colorspace, color_range, out)
