"""The bad-input matrix: every broken input is a typed error and leaves no output that looks
complete; every unusual-but-valid input works. Real files, the real decoder, the real jobs.

Decisions (see each case): a video the decoder cannot show us in full — empty, junk, no video
stream, a still image, no frames, an index without data, data cut short — is ``InvalidVideo``.
Geometry, codec, frame rate and scan type are not reasons to refuse: 1 frame, 8K, 16x16, odd
sizes, VFR, interlaced, 10-bit, HEVC, VP9 and AV1 all produce frames. A few damaged packets in
the middle are skipped and counted, not fatal.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

import tests.fixtures_media as fm
from gpu_kernels.errors import (BadInput, CorruptData, InvalidCropRegion, InvalidFrameRange, InvalidVideo,
                                MissingObject)
from gpu_kernels.video import DecodeStats, iter_frames_at_rate, probe, sample_frames, to_rgb
from tasks.caption_ocr import generate_caption_ocr
from tasks.chunks import ChunkReader
from tasks.crop_infer import crop_and_infer_caption_frame_extents, load_predictions
from tasks.databases import open_db
from tasks.extract import extract_frames_and_ocr
from tasks.keys import VideoKeys
from tasks.ocr.base import OcrEngine
from tasks.types import CropRegion

from .conftest import REPO, TENANT, VIDEO

FULL = CropRegion(0.0, 0.0, 1.0, 1.0)


class NullOcr(OcrEngine):
    """Finds nothing, instantly: the matrix tests decoding and storage, not OCR."""

    name = "null"

    def recognize(self, image):
        assert image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8
        return []


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """name → path, generated on first use and cached for the module."""
    d = tmp_path_factory.mktemp("media")
    cache: dict[str, str] = {}

    def get(name: str) -> str:
        if name not in cache:
            base = lambda: get("base")  # noqa: E731
            gens = {
                "base": lambda p: fm.h264(p, n=30),
                "empty": fm.empty,
                "random_bytes": fm.random_bytes,
                "moov_missing": lambda p: fm.moov_missing(base(), p),
                "cut_mid_mdat": lambda p: fm.cut_mid_mdat(base(), p),
                "audio_only": fm.audio_only,
                "png_as_mp4": fm.image_as_mp4,
                "jpeg_as_mp4": fm.jpeg_as_mp4,
                "zero_frames": fm.zero_frames,
                "one_frame": fm.one_frame,
                "huge_8k": fm.huge_8k,
                "tiny_16x16": fm.tiny_16,
                "odd_161x91": fm.odd_width,
                "rotated_90": fm.rotated,
                "vfr": fm.vfr,
                "interlaced_ts": fm.interlaced,
                "ten_bit": fm.ten_bit,
                "hevc": lambda p: fm.hevc(p, n=20, caption=fm.CAPTION, caption_frames=range(5, 15)),
                "vp9": lambda p: fm.vp9(p, n=20, caption=fm.CAPTION, caption_frames=range(5, 15)),
                "av1": lambda p: fm.av1(p, n=20, caption=fm.CAPTION, caption_frames=range(5, 15)),
                "corrupt_h264": lambda p: fm.corrupt_samples(base(), p, [12, 13]),
                "corrupt_mjpeg": lambda p: fm.corrupt_samples(get("mjpeg"), p, [7]),
                "mjpeg": fm.mjpeg,
                "ts_offset_60s": fm.ts_with_start_offset,
            }
            cache[name] = gens[name](str(d / f"{name}.mp4"))
        return cache[name]

    return get


@pytest.fixture(scope="module")
def predictor():
    from gpu_kernels.extents import get_predictor

    return get_predictor("auto")


@pytest.fixture
def jctx(storage, predictor):
    from tasks.context import JobContext

    c = JobContext(storage=storage, device_name="cpu")
    c._ocr, c._predictor = NullOcr(), predictor
    return c


def _upload(storage, path, video=VIDEO):
    keys = VideoKeys(TENANT, video)
    storage.put_file(keys.video, path)
    return keys


def _assert_nothing_published(storage, keys):
    """Only the uploaded video: no frames, no chunks, no manifest, no database."""
    assert storage.list(keys.client) == [keys.video]
    assert storage.list(keys.server) == []


# --- inputs that must fail ---------------------------------------------------------------------

BAD = {
    "empty": "empty",
    "random_bytes": "not a readable video",
    "moov_missing": "not a readable video",
    "cut_mid_mdat": "truncated",
    "audio_only": "no video stream",
    "png_as_mp4": "still image",
    "jpeg_as_mp4": "still image",
    "zero_frames": "no video stream",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_video_is_a_typed_error_and_publishes_nothing(name, media, storage, jctx):
    path = media(name)
    with pytest.raises(InvalidVideo, match=BAD[name]) as ei:
        probe(path)
    assert isinstance(ei.value, BadInput) and not ei.value.retryable
    keys = _upload(storage, path)
    with pytest.raises(InvalidVideo):
        extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=jctx)
    with pytest.raises(InvalidVideo):
        crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, FULL, ctx=jctx)
    _assert_nothing_published(storage, keys)


def test_truncated_mp4_is_refused_before_any_frame_is_published(media):
    """Cut mid-mdat: the index is whole, the first 1.2 s decode. Without the probe's end check
    a decode pass stops silently at 1.2 s and the job publishes 12 of 30 frames as complete."""
    stats = DecodeStats()
    frames = list(iter_frames_at_rate(media("cut_mid_mdat"), 10, to_rgb, stats))
    assert 0 < len(frames) < 30 and stats.corrupt_packets == 0  # the decoder alone can't tell
    with pytest.raises(InvalidVideo, match=r"ends at 1\.\d+ s of the 3\.00 s"):
        probe(media("cut_mid_mdat"))


@pytest.mark.parametrize("what", ["directory", "missing"])
def test_paths_that_are_not_files(tmp_path, what):
    p = tmp_path / "v.mp4"
    if what == "directory":
        p.mkdir()
    with pytest.raises(InvalidVideo):
        probe(str(p))


# --- inputs that must work ---------------------------------------------------------------------

# name → (crop region, frames expected at 10 Hz)
GOOD = {
    "one_frame": (FULL, 1),
    "huge_8k": (CropRegion(0.0, 0.9, 0.25, 1.0), 1),  # 1920x432 crop of one 7680x4320 frame
    "tiny_16x16": (FULL, 10),
    "odd_161x91": (FULL, 10),
    "rotated_90": (FULL, 10),
    "vfr": (FULL, 24),  # the last frame (t=2.283 s) stays on screen one frame: indices 0..23
    "interlaced_ts": (FULL, None),  # see test_stream_start_offset for the exact count
    "ten_bit": (FULL, 10),
    "hevc": (FULL, 20),
    "vp9": (FULL, 20),
    "av1": (FULL, 20),
    "corrupt_h264": (FULL, 30),
    "corrupt_mjpeg": (FULL, 20),
}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_unusual_valid_video_produces_whole_outputs(name, media, storage, jctx):
    region, expected = GOOD[name]
    path = media(name)
    info = probe(path)
    keys = _upload(storage, path)
    ex = extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=jctx)
    assert ex.frame_count >= 1 and len(storage.list(keys.full_frames)) == ex.frame_count
    ci = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, region, ctx=jctx)
    with ChunkReader(storage, ci.cropped_frames_prefix) as reader:
        n = reader.frame_count
        if expected is not None:
            assert n == expected
        else:
            assert n >= 10
        idx, frames = reader.frames(0, n, want=n)
    assert idx == list(range(n))
    x0, y0, x1, y1 = json.loads(storage.get_bytes(ci.cropped_frames_prefix + "manifest.json"))["crop_box"]
    assert frames.shape == (n, y1 - y0, x1 - x0, 3) and (x1 - x0) % 2 == 0 and (y1 - y0) % 2 == 0
    assert x1 <= info.width and y1 <= info.height
    with open_db(storage, ci.caption_frame_extents_db_key) as conn:
        probs, meta = load_predictions(conn)
    assert len(probs) == n - 1 and meta["cropped_frames_version"] == ci.version


@pytest.mark.parametrize("name", ["corrupt_h264", "corrupt_mjpeg"])
def test_corrupt_frames_are_skipped_and_counted(name, media, storage, jctx):
    bad = {"corrupt_h264": 2, "corrupt_mjpeg": 1}[name]
    stats = DecodeStats()
    got = list(iter_frames_at_rate(media(name), 10, to_rgb, stats))
    assert stats.corrupt_packets == bad and len(stats.errors) == bad
    assert [i for i, _ in got] == list(range(len(got)))  # no index lost: the previous frame holds
    nums = [fm.frame_number(img) for _, img in got]
    assert nums[-1] == len(got) - 1  # decoding went on to the end
    keys = _upload(storage, media(name))
    ci = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, FULL, ctx=jctx)
    manifest = json.loads(storage.get_bytes(ci.cropped_frames_prefix + "manifest.json"))
    assert manifest["source"]["corrupt_packets"] == bad  # recorded with the output
    extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=jctx)
    with open_db(storage, keys.raw_ocr_db) as conn:
        meta = dict(conn.execute("SELECT key, value FROM metadata"))
    assert int(meta["corrupt_packets"]) >= 1


@pytest.mark.parametrize("name", ["hevc", "vp9", "av1"])
def test_modern_codecs_decode_every_frame_and_their_caption_is_read(name, media, storage, ctx):
    """AV1 (SVT-AV1 encoder, dav1d decoder), HEVC (x265), VP9 (libvpx) in the bundled FFmpeg."""
    enc = {"hevc": "libx265", "vp9": "libvpx-vp9", "av1": "libsvtav1"}[name]
    if not fm.encoder_available(enc):
        pytest.skip(f"the bundled FFmpeg has no {enc} encoder")
    got = list(iter_frames_at_rate(media(name), 10, to_rgb))
    assert [fm.frame_number(img) for _, img in got] == list(range(20))
    keys = _upload(storage, media(name))
    ci = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, FULL, ctx=ctx)
    r = generate_caption_ocr(ci.cropped_frames_prefix, 5, 15, ctx=ctx)
    assert "HELLO" in r.ocr_text.upper() and r.frame_count == 10
    assert generate_caption_ocr(ci.cropped_frames_prefix, 16, 20, ctx=ctx).ocr_text == ""


def test_sampled_and_dense_decoding_agree_on_vfr(media):
    """Extract (seek-sampled) and crop (dense) must show the same frame for the same index."""
    dense = {i: fm.frame_number(img) for i, img in iter_frames_at_rate(media("vfr"), 10, to_rgb)}
    times = [i / 10 for i in range(0, 23, 3)]
    sampled = {round(t * 10): fm.frame_number(img) for t, img in sample_frames(media("vfr"), times, to_rgb,
                                                                               reseek_gap=0.0)}
    assert sampled == {i: dense[i] for i in sampled}


def test_stream_start_offset(media):
    """An MPEG-TS cut from a broadcast starts at pts 60 s. Today index 0..599 all repeat frame 0
    (600 phantom frames, every caption 60 s late) and extract samples frame 0 thirty times."""
    got = list(iter_frames_at_rate(media("ts_offset_60s"), 10, to_rgb))
    assert [fm.frame_number(img) for _, img in got] == list(range(20))
    sampled = [fm.frame_number(img) for _, img in sample_frames(media("ts_offset_60s"), [0.0, 0.5, 1.0], to_rgb)]
    assert sampled == [0, 5, 10]


def test_rotated_video_is_seen_upright(media):
    info = probe(media("rotated_90"))
    assert (info.width, info.height) == (fm.H, fm.W)
    _, img = next(iter_frames_at_rate(media("rotated_90"), 10, to_rgb))
    assert img.shape[:2] == (fm.W, fm.H)


# --- job arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("region", [
    (-0.1, 0, 1, 1), (0, 0, 1.01, 1), (0.5, 0, 0.4, 1), (0, 0.6, 1, 0.5), (0.3, 0.3, 0.3, 0.6),
    (0, 0, 1, 0), (float("nan"), 0, 1, 1), (0, 0, float("inf"), 1), (True, 0, 1, 1), ("0", 0, 1, 1),
    "0,0,1", "a,b,c,d", "0,0,1,1,1", {"crop_left": 0}, None, 7, [0, 0, 1],
])
def test_bad_crop_regions_are_refused_before_any_work(region, storage, jctx, media):
    keys = _upload(storage, media("base"))
    with pytest.raises(InvalidCropRegion):
        crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, region, ctx=jctx)
    _assert_nothing_published(storage, keys)


def test_crop_region_under_2x2_pixels_on_a_tiny_video(storage, jctx, media):
    keys = _upload(storage, media("tiny_16x16"))
    with pytest.raises(InvalidCropRegion, match="under 2x2"):
        crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, (0.5, 0.5, 0.55, 0.55), ctx=jctx)
    _assert_nothing_published(storage, keys)


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf"), 11, True, "1", None])
def test_bad_frame_rates(rate, storage, jctx, media):
    keys = _upload(storage, media("base"))
    with pytest.raises(BadInput):
        extract_frames_and_ocr(keys.video, TENANT, VIDEO, frame_rate=rate, ctx=jctx)
    with pytest.raises(BadInput):
        crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, FULL, frame_rate=rate, ctx=jctx)
    _assert_nothing_published(storage, keys)


# --- stored artefacts that are missing or damaged ---------------------------------------------


@pytest.fixture
def cropped(storage, jctx, media):
    """A complete crop+infer run of the 3 s base clip: (keys, result)."""
    keys = _upload(storage, media("base"))
    return keys, crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, FULL, ctx=jctx)


@pytest.mark.parametrize("start, end", [(0, 0), (5, 4), (-1, 3), (0, 31), (30, 31), (10**12, 10**12 + 1),
                                        (0.0, 3), (0, 3.5), (True, 3), ("0", "3"), (None, 3)])
def test_frame_ranges_out_of_bounds(cropped, jctx, start, end):
    _, ci = cropped
    with pytest.raises(InvalidFrameRange):
        generate_caption_ocr(ci.cropped_frames_prefix, start, end, ctx=jctx)


def _damage(storage, key, how):
    data = storage.get_bytes(key)
    if how == "delete":
        storage.delete(key)
    elif how == "junk":
        storage.put_bytes(key, os.urandom(len(data)))
    elif how == "truncate":
        storage.put_bytes(key, data[: len(data) // 2])
    elif how == "empty":
        storage.put_bytes(key, b"")


@pytest.mark.parametrize("how, error", [("delete", MissingObject), ("junk", CorruptData),
                                        ("truncate", CorruptData), ("empty", CorruptData)])
def test_missing_or_corrupt_chunk(cropped, storage, jctx, how, error):
    _, ci = cropped
    _damage(storage, ci.cropped_frames_prefix + "modulo_1/chunk_0000.webm", how)
    with pytest.raises(error):
        generate_caption_ocr(ci.cropped_frames_prefix, 0, 30, ctx=jctx)
    # frames of untouched chunks still read: a long caption uses only the coarse levels
    assert generate_caption_ocr(ci.cropped_frames_prefix, 0, 1, ctx=jctx).frame_count == 1


def test_chunk_swapped_for_another_valid_chunk(cropped, storage, jctx):
    _, ci = cropped
    p = ci.cropped_frames_prefix
    storage.put_bytes(p + "modulo_1/chunk_0000.webm", storage.get_bytes(p + "modulo_16/chunk_0000.webm"))
    with pytest.raises(CorruptData, match="manifest says"):
        generate_caption_ocr(p, 0, 30, ctx=jctx)


@pytest.mark.parametrize("body, error", [
    (None, MissingObject), (b"", CorruptData), (b"{not json", CorruptData), (b"\xff\xfe", CorruptData),
    (b"[]", CorruptData), (b'{"chunks": []}', CorruptData), (b"null", CorruptData),
])
def test_missing_or_corrupt_manifest(cropped, storage, jctx, body, error):
    _, ci = cropped
    key = ci.cropped_frames_prefix + "manifest.json"
    if body is None:
        storage.delete(key)
    else:
        storage.put_bytes(key, body)
    with pytest.raises(error):
        generate_caption_ocr(ci.cropped_frames_prefix, 0, 3, ctx=jctx)


@pytest.mark.parametrize("patch", [
    {"frame_count": "30"}, {"chunks": "x"}, {"chunks": [{"key": "modulo_1/chunk_0000.webm"}]},
    {"chunks": [{"key": "../../../../other/x.webm", "modulo": 1, "chunk_index": 0, "frame_indices": [0, 1]}]},
])
def test_manifest_with_wrong_field_types_is_corrupt_data(cropped, storage, jctx, patch):
    _, ci = cropped
    key = ci.cropped_frames_prefix + "manifest.json"
    m = json.loads(storage.get_bytes(key))
    m.update(patch)
    storage.put_bytes(key, json.dumps(m).encode())
    with pytest.raises(CorruptData):
        generate_caption_ocr(ci.cropped_frames_prefix, 0, 3, ctx=jctx)



@pytest.mark.parametrize("how", ["delete", "junk", "truncate", "empty", "sqlite_garbage"])
def test_missing_or_corrupt_extents_database(cropped, storage, how):
    keys, ci = cropped
    key = ci.caption_frame_extents_db_key
    if how == "sqlite_garbage":
        storage.put_bytes(key, b"SQLite format 3\x00" + os.urandom(4000))
    else:
        _damage(storage, key, how)
    error = MissingObject if how == "delete" else CorruptData
    with pytest.raises(error):
        with open_db(storage, key) as conn:
            load_predictions(conn)


def test_extents_database_with_another_schema_is_corrupt_data(cropped, storage):
    import sqlite3

    keys, ci = cropped
    path = os.path.join(os.path.dirname(storage.path(ci.caption_frame_extents_db_key)), "other.db")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    storage.put_file(ci.caption_frame_extents_db_key, path)
    with pytest.raises(CorruptData):
        with open_db(storage, ci.caption_frame_extents_db_key) as conn:
            load_predictions(conn)


def _gz_bad_deflate(raw: bytes) -> bytes:
    """Valid gzip header, then a deflate stream with a reserved block type: zlib.error."""
    gz = bytearray(gzip.compress(raw))
    gz[10] = 0x07  # BFINAL=1, BTYPE=11 (reserved)
    return bytes(gz)


@pytest.mark.parametrize("how", ["junk", "truncate", "empty", "not_gzip"])
def test_corrupt_gzipped_database(storage, how):
    from tasks.databases import new_db, publish_db

    keys = VideoKeys(TENANT, VIDEO)
    with new_db("CREATE TABLE t(x TEXT);") as (conn, path):
        conn.executemany("INSERT INTO t VALUES (?)", [(str(i) * 50,) for i in range(300)])
        publish_db(conn, path, storage, keys.layout_db)
    if how == "not_gzip":
        storage.put_bytes(keys.layout_db, b"SQLite format 3\x00")
    else:
        _damage(storage, keys.layout_db, how)
    with pytest.raises(CorruptData):
        with open_db(storage, keys.layout_db) as conn:
            conn.execute("SELECT count(*) FROM t").fetchone()


def test_gzipped_database_with_bad_deflate_data_is_corrupt_data(storage):
    keys = VideoKeys(TENANT, VIDEO)
    storage.put_bytes(keys.layout_db, _gz_bad_deflate(b"SQLite format 3\x00" * 100))
    with pytest.raises(CorruptData):
        with open_db(storage, keys.layout_db):
            pass


def test_gunzip_helper_reports_bad_deflate(storage, tmp_path):
    keys = VideoKeys(TENANT, VIDEO)
    storage.put_bytes(keys.layout_db, _gz_bad_deflate(b"x" * 1000))
    with pytest.raises(CorruptData):
        storage.get_gunzipped(keys.layout_db, tmp_path / "out.db")
    assert not (tmp_path / "out.db").exists()
    with pytest.raises(zlib.error):  # what open_db lets escape today
        gzip.decompress(_gz_bad_deflate(b"x" * 1000))


# --- the command line ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cut_mid_mdat", "audio_only", "png_as_mp4", "zero_frames"])
def test_cli_exits_2_with_one_line_and_writes_no_captions(name, media, tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "workers.cli", "run", media(name), "--out", str(out), "-q",
                        "--device", "cpu"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    assert "Traceback" not in p.stderr
    assert not (out / "captions.srt").exists() and not (out / "captions.db").exists()
    found = [os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs]
    assert all(f.endswith("video.mp4") for f in found), found  # only the input, linked in
