"""Montage planning, rendering, detection → frame mapping, request splitting (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasks.ocr.montage import (
    VisionLimits,
    build_montages,
    estimate_calls,
    one_hour_estimates,
    pack_requests,
    plan_layouts,
    request_bytes,
)


def _check_layouts(layouts, shapes, limits, sep):
    seen = [t.index for lay in layouts for t in lay.tiles]
    assert seen == list(range(len(shapes)))  # every image once, in order
    for lay in layouts:
        for a, b in zip(lay.tiles, lay.tiles[1:]):
            assert b.y == a.y + a.height + sep
        if len(lay.tiles) > 1:
            assert lay.width * lay.height <= limits.max_pixels
            assert lay.height <= limits.max_side
            if limits.max_tiles_per_montage:
                assert len(lay.tiles) <= limits.max_tiles_per_montage


@given(
    shapes=st.lists(st.tuples(st.integers(1, 300), st.integers(1, 400)), min_size=1, max_size=60),
    max_pixels=st.integers(1_000, 400_000),
    max_side=st.integers(50, 5_000),
    cap=st.integers(0, 7),
    sep=st.integers(0, 30),
)
@settings(max_examples=200, deadline=None)
def test_plan_layouts_respects_limits(shapes, max_pixels, max_side, cap, sep):
    limits = VisionLimits(max_pixels=max_pixels, max_side=max_side, max_tiles_per_montage=cap)
    _check_layouts(plan_layouts(shapes, limits, sep), shapes, limits, sep)


def test_render_places_every_tile_and_fills_separators():
    rng = np.random.default_rng(0)
    imgs = [rng.integers(1, 255, (h, w, 3), dtype=np.uint8) for h, w in [(30, 50), (20, 70), (40, 60)]]
    (lay,) = plan_layouts([im.shape[:2] for im in imgs], separator=5)
    m = lay.render(imgs, fill=0)
    assert m.shape == (30 + 5 + 20 + 5 + 40, 70, 3)
    for t in lay.tiles:
        np.testing.assert_array_equal(m[t.y : t.y + t.height, : t.width], imgs[t.index])
        assert not m[t.y : t.y + t.height, t.width :].any()  # narrow tiles padded on the right
    assert not m[30:35].any() and not m[55:60].any()


@given(
    heights=st.lists(st.integers(10, 200), min_size=1, max_size=12),
    sep=st.integers(0, 40),
    data=st.data(),
)
@settings(max_examples=200, deadline=None)
def test_assign_maps_boxes_back_to_their_frame(heights, sep, data):
    width = 300
    (lay,) = plan_layouts([(h, width) for h in heights], separator=sep)
    k = data.draw(st.integers(0, len(heights) - 1))
    t = lay.tiles[k]
    y0 = data.draw(st.integers(0, t.height - 1))
    y1 = data.draw(st.integers(y0 + 1, t.height))
    x0 = data.draw(st.integers(0, width - 1))
    x1 = data.draw(st.integers(x0 + 1, width))
    pos, local = lay.assign(np.array([[x0, t.y + y0, x1, t.y + y1]]))
    assert pos[0] == k
    np.testing.assert_allclose(local[0], [x0, y0, x1, y1])


def test_assign_straddling_box_goes_to_majority_and_is_clipped():
    (lay,) = plan_layouts([(100, 200), (100, 200), (100, 200)], separator=10)
    # seam between tile 0 (rows 0..100) and tile 1 (rows 110..210)
    boxes = np.array([
        [5, 90, 50, 130],   # 10 rows in tile 0, 20 in tile 1 → tile 1
        [5, 80, 50, 114],   # 20 rows in tile 0, 4 in tile 1 → tile 0
        [5, 101, 50, 108],  # inside the separator, nearer tile 0's centre... tie-break by centre
        [5, 215, 50, 218],  # inside the second separator → nearest centre is tile 1 or 2
    ])
    pos, local = lay.assign(boxes)
    assert pos[0] == 1 and pos[1] == 0
    np.testing.assert_allclose(local[0], [5, 0, 50, 20])  # clipped at the tile's top
    np.testing.assert_allclose(local[1], [5, 80, 50, 100])  # clipped at the tile's bottom
    assert pos[2] in (0, 1) and pos[3] in (1, 2)
    assert (local[:, [1, 3]] >= 0).all() and (local[:, [1, 3]] <= 100).all()


def test_assign_handles_no_boxes():
    (lay,) = plan_layouts([(10, 10)])
    pos, local = lay.assign(np.zeros((0, 4)))
    assert pos.shape == (0,) and local.shape == (0, 4)


def _fake_encoder(bytes_per_pixel):
    return lambda img: b"x" * int(img.shape[0] * img.shape[1] * bytes_per_pixel)


def test_build_montages_splits_on_encoded_bytes():
    # 40 frames of 100×100; 1 byte/pixel → 10 kB a frame. Budget ≈ 33 kB → ≤ 3 frames a montage.
    limits = VisionLimits(max_request_bytes=45_000, max_image_bytes=10**9)
    imgs = [np.zeros((100, 100, 3), np.uint8)] * 40
    montages, too_large = build_montages(imgs, _fake_encoder(1.0), limits, separator=0)
    assert too_large == []
    assert [i for m in montages for i in m.layout.indices] == list(range(40))
    assert all(len(m.data) <= limits.max_encoded_image_bytes for m in montages)
    assert max(len(m.layout.tiles) for m in montages) == 3
    assert len(montages) == 14  # learned bytes/pixel re-plans to full montages, not halves
    for batch in pack_requests([len(m.data) for m in montages], limits):
        assert request_bytes([len(montages[i].data) for i in batch]) <= limits.max_request_bytes


def test_build_montages_reports_images_too_large_alone():
    limits = VisionLimits(max_request_bytes=20_000)
    imgs = [np.zeros((10, 10, 3), np.uint8), np.zeros((200, 200, 3), np.uint8), np.zeros((10, 10, 3), np.uint8)]
    montages, too_large = build_montages(imgs, _fake_encoder(1.0), limits, separator=0)
    assert too_large == [1]
    assert sorted(i for m in montages for i in m.layout.indices) == [0, 2]


@given(sizes=st.lists(st.integers(1, 3_000_000), min_size=0, max_size=80))
@settings(max_examples=200, deadline=None)
def test_pack_requests_at_the_limits(sizes):
    limits = VisionLimits()
    sizes = [min(s, limits.max_encoded_image_bytes) for s in sizes]
    batches = pack_requests(sizes, limits)
    assert [i for b in batches for i in b] == list(range(len(sizes)))
    for b in batches:
        assert 1 <= len(b) <= 16
        assert request_bytes([sizes[i] for i in b]) <= limits.max_request_bytes


def test_pack_requests_sixteen_small_images_per_request():
    assert [len(b) for b in pack_requests([1000] * 40)] == [16, 16, 8]


def test_one_hour_estimates_are_far_below_one_call_per_frame():
    rows = {e.label: e for e in one_hour_estimates()}
    full = rows["1080p full frames @0.1 Hz"]
    assert full.per_frame_images == 360
    assert full.montage_images < 360 / 10
    crops = rows["720p caption crops @0.1 Hz"]
    assert crops.montage_images <= 3
    for e in rows.values():
        assert e.montage_requests <= e.montage_images
        assert e.montage_images * e.frames_per_montage == pytest.approx(e.frames)


def test_estimate_calls_respects_pixel_limit():
    e = estimate_calls("t", 100, 1000, 1000, bytes_per_pixel=0.001, limits=VisionLimits(max_pixels=5_100_000))
    assert e.montage_images == 20  # 5 frames of 1 MP (+ separators) per montage
