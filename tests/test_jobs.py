"""The three jobs on a generated clip: outputs, schemas, keys and contents against the truth."""

import json
import sqlite3

import pytest

from gpu_kernels.extents import CLASSES
from tasks.caption_ocr import MAX_BATCH, generate_caption_ocr, generate_caption_ocr_batch
from tasks.chunks import level_of
from tasks.crop_infer import crop_and_infer_caption_frame_extents
from tasks.databases import open_db
from tasks.errors import BadInput, InvalidCropRegion, InvalidFrameRange, InvalidId, InvalidVideo, MissingObject
from tasks.extract import extract_frames_and_ocr, sample_times
from tasks.keys import VideoKeys
from tasks.types import CropRegion

from .conftest import TENANT, VIDEO

BAND = CropRegion(0.0, 0.70, 1.0, 0.98)


def _columns(conn, table):
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def test_layout_samples_move_to_just_after_a_keyframe():
    from tasks.extract import snap_to_keyframes

    keys = [0.0, 2.002, 4.004, 6.006, 9.5]
    # Each time goes to the first 10 Hz time at or after its nearest keyframe, within half the
    # 2-s interval; 8.0 has none that near (9.5 is 1.5 s off) and stays.
    assert snap_to_keyframes([0.0, 2.0, 4.0, 6.0, 8.0], keys, 10.0) == [0.0, 2.1, 4.1, 6.1, 8.0]
    assert snap_to_keyframes([0.0, 2.0], [], 3.0) == [0.0, 2.0]
    # Never past the last frame's index.
    assert snap_to_keyframes([0.0, 1.0], [0.0, 1.96], 2.0) == [0.0, 1.0]


def test_sample_times_densify_short_videos():
    assert sample_times(3600.0, 0.1)[:3] == [0.0, 10.0, 20.0] and len(sample_times(3600.0, 0.1)) == 360
    short = sample_times(7.0, 0.1)
    assert len(short) >= 30 and len(set(short)) == len(short) and max(short) < 7.0
    assert all(abs(t * 10 - round(t * 10)) < 1e-9 for t in short)  # on the 10 Hz grid


def test_extract_frames_and_ocr(ctx, uploaded):
    keys, truth = uploaded
    r = extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=ctx)
    assert r.frame_count >= 30 and r.duration == pytest.approx(7.0, abs=0.05)
    assert r.ocr_db_key == keys.raw_ocr_db and r.layout_db_key == keys.layout_db
    assert r.full_frames_key == keys.full_frames + "/"
    frames = ctx.storage.list(keys.full_frames)
    thumbs = ctx.storage.list(keys.thumbnails)
    assert len(frames) == len(thumbs) == r.frame_count
    from PIL import Image

    with ctx.storage.open_local(thumbs[0]) as p:
        assert Image.open(p).size == (320, 180)
    with ctx.storage.open_local(frames[0]) as p:
        assert Image.open(p).size == (640, 360)

    with open_db(ctx.storage, keys.raw_ocr_db) as conn:
        assert _columns(conn, "full_frame_ocr")[1:] == [
            "frame_index", "box_index", "text", "confidence", "x", "y", "width", "height"]
        rows = conn.execute("SELECT frame_index, text, y, height FROM full_frame_ocr").fetchall()
        assert len(rows) == r.ocr_box_count > 0
        texts = {t for _, t, _, _ in rows}
        assert "Hello there" in texts and "你好世界" in texts
        assert all(y + h <= 360 for _, _, y, h in rows)
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO full_frame_ocr (frame_index, box_index, text, confidence, x, y, width, height)"
                         " SELECT frame_index, box_index, text, confidence, x, y, width, height FROM full_frame_ocr LIMIT 1")
    with open_db(ctx.storage, keys.layout_db) as conn:
        cfg = dict(zip(_columns(conn, "layout_config"), conn.execute("SELECT * FROM layout_config").fetchone()))
        assert (cfg["frame_width"], cfg["frame_height"]) == (640, 360)
        assert cfg["anchor_type"] == "center"
        # The rendered captions sit in the band ~0.80..0.90 of the height; the crop must hold it.
        assert cfg["crop_top"] < 0.79 and cfg["crop_bottom"] > 0.90
        assert cfg["crop_bottom"] - cfg["crop_top"] < 0.3
        assert conn.execute("SELECT layout_approved FROM preferences").fetchone() == (0,)
        meta = dict(conn.execute("SELECT key, value FROM metadata").fetchall())
        assert "top-left" in meta["coordinates"]
        assert conn.execute("SELECT MIN(bbox_left), MAX(bbox_right) FROM boxes").fetchone()[1] <= 1.0
    # The result carries the suggestion: no caller has to gunzip layout.db to find the crop.
    assert r.crop_region == {k: cfg[k] for k in ("crop_left", "crop_top", "crop_right", "crop_bottom")}
    assert r.regions[0] == dict(r.crop_region, anchor_type="center", confidence=r.regions[0]["confidence"])


def test_crop_and_infer_outputs(ctx, uploaded):
    keys, truth = uploaded
    r1 = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, BAND, ctx=ctx)
    assert r1.version == 1 and r1.cropped_frames_prefix == keys.cropped_frames(1) + "/"
    manifest = json.loads(ctx.storage.get_bytes(keys.cropped_frames(1) + "/manifest.json"))
    n = manifest["frame_count"]
    assert n == 70  # 7.0 s at 10 Hz
    all_idx = sorted(i for c in manifest["chunks"] for i in c["frame_indices"])
    assert all_idx == list(range(n))
    assert all(level_of(i) == c["modulo"] for c in manifest["chunks"] for i in c["frame_indices"])
    stored = set(ctx.storage.list(keys.cropped_frames(1)))
    assert {keys.cropped_frames(1) + "/" + c["key"] for c in manifest["chunks"]} | {
        keys.cropped_frames(1) + "/manifest.json"} == stored

    with open_db(ctx.storage, r1.caption_frame_extents_db_key) as conn:
        cols = _columns(conn, "pair_results")
        for d in ("forward", "backward"):
            assert f"{d}_predicted_label" in cols and f"{d}_confidence" in cols
            assert all(f"{d}_prob_{c}" in cols for c in CLASSES)
        meta = dict(zip(_columns(conn, "run_metadata"), conn.execute("SELECT * FROM run_metadata").fetchone()))
        assert meta["cropped_frames_version"] == 1 and meta["total_pairs"] == n - 1
        pairs = conn.execute("SELECT frame1_index, frame2_index, forward_predicted_label FROM pair_results"
                             " ORDER BY frame1_index").fetchall()
        ext = conn.execute("SELECT start_frame_index, end_frame_index, start_time, end_time, refined"
                           " FROM caption_extents ORDER BY start_frame_index").fetchall()
    assert [(a, b) for a, b, _ in pairs] == [(k, k + 1) for k in range(n - 1)]
    labels = {a: lab for a, _, lab in pairs}
    # Frames 0..5 show no caption; frames 6..17 show "Hello there" (0.52 s .. 1.8 s). Single
    # pairs may be misread (the decoder exists to outvote them); most must not be.
    assert sum(labels[k] == "empty_empty" for k in range(0, 5)) >= 4
    assert all(labels[k] in ("same", "different") for k in range(6, 17))
    assert sum(labels[k] == "same" for k in range(6, 17)) >= 9

    # The decoded captions are stored too, with times refined to the source frame (25 fps).
    first = ext[0]
    assert first[0] == 6 and first[4] == 1  # nothing decoded on the empty frames before it
    assert abs(first[2] - truth["captions"][0]["start"]) <= 0.041

    r2 = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, BAND, ctx=ctx)
    assert r2.version == 2  # a new version number per run


def test_generate_caption_ocr_reads_the_caption(ctx, uploaded):
    keys, truth = uploaded
    r = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, BAND, ctx=ctx)
    hello = generate_caption_ocr(r.cropped_frames_prefix, 6, 18, ctx=ctx)
    assert hello.ocr_text == "Hello there" and 0.5 < hello.confidence <= 1 and hello.frame_count == 12  # all 12 frames of the caption (≤ 15)
    zh = generate_caption_ocr(r.cropped_frames_prefix, 19, 30, ctx=ctx)
    assert zh.ocr_text == "你好世界"
    empty = generate_caption_ocr(r.cropped_frames_prefix, 63, 70, ctx=ctx)
    assert empty.ocr_text == "" and empty.confidence == 0.0
    for s, e in [(10, 10), (12, 3), (0, 71)]:
        with pytest.raises(InvalidFrameRange):
            generate_caption_ocr(r.cropped_frames_prefix, s, e, ctx=ctx)
    with pytest.raises(MissingObject):
        generate_caption_ocr(VideoKeys(TENANT, VIDEO).cropped_frames(9) + "/", 0, 5, ctx=ctx)

    # The batch job: one result per range, in the ranges' order, as the one-caption job reads them.
    batch = generate_caption_ocr_batch(r.cropped_frames_prefix, [[19, 30], [6, 18], [63, 70]], ctx=ctx)
    assert [c.ocr_text for c in batch.captions] == ["你好世界", "Hello there", ""]
    d = batch.to_dict()["captions"][1]  # (the confidence of a montaged read differs a little)
    assert (d["ocr_text"], d["frame_count"]) == (hello.ocr_text, hello.frame_count) and d["confidence"] > 0.9
    for bad in ([], [[10, 10]], [[12, 3]], [[0, 71]], "6,18", [[6, 18.0]], [[1, 2]] * (MAX_BATCH + 1)):
        with pytest.raises(InvalidFrameRange):
            generate_caption_ocr_batch(r.cropped_frames_prefix, bad, ctx=ctx)
    with pytest.raises(InvalidFrameRange):
        generate_caption_ocr_batch(r.cropped_frames_prefix, [[6, 18]], known=[[3]], ctx=ctx)


def test_job_input_errors(ctx, uploaded, storage):
    keys, _ = uploaded
    with pytest.raises(InvalidId):
        extract_frames_and_ocr(keys.video, "not-a-uuid", VIDEO, ctx=ctx)
    other = "11111111-2222-4333-8444-555555555555"
    with pytest.raises(InvalidId):  # a video key outside the caller's tenant
        extract_frames_and_ocr(keys.video, other, VIDEO, ctx=ctx)
    with pytest.raises(MissingObject):
        extract_frames_and_ocr(VideoKeys(TENANT, other).video, TENANT, other, ctx=ctx)
    for bad in [(0.2, 0.9, 0.1, 1.0), (0, 0, 1.5, 1), (0.3, 0.3, 0.3, 0.6)]:
        with pytest.raises(InvalidCropRegion):
            crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, bad, ctx=ctx)
    with pytest.raises(BadInput):
        extract_frames_and_ocr(keys.video, TENANT, VIDEO, frame_rate=0, ctx=ctx)
    # A stored object that is not a video: typed error, and no version left behind.
    bad_keys = VideoKeys(TENANT, other)
    storage.put_bytes(bad_keys.video, b"\x00" * 4096)
    with pytest.raises(InvalidVideo):
        crop_and_infer_caption_frame_extents(bad_keys.video, TENANT, other, BAND, ctx=ctx)
    with pytest.raises(InvalidVideo):
        extract_frames_and_ocr(bad_keys.video, TENANT, other, ctx=ctx)
    assert storage.list(bad_keys.client) == [bad_keys.video]
    assert storage.list(bad_keys.server) == []
