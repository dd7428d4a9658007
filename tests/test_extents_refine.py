"""Boundary refinement finds the exact source frame where a caption appears and disappears."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the training package (not installed)

from gpu_kernels.extents import available_predictors, get_predictor
from gpu_kernels.extents.decode import Interval
from gpu_kernels.extents.refine import change_position, refine_boundaries, refine_intervals

from training.clips import ClipSpec, make_clip  # noqa: E402

FPS = 25
# Caption on source frames [27, 61) → [1.08 s, 2.44 s); at 10 Hz it is on samples 11…24.
START_FRAME, END_FRAME = 27, 61
BAND = (0, 280, 640, 350)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("refine") / "clip.mp4"
    spec = ClipSpec(640, 360, Fraction(FPS), 4.0, BAND)
    truth = make_clip(str(path), seed=3, split="heldout", spec=spec, crf=23, background="footage",
                      captions=[(START_FRAME, END_FRAME, "Refine me to the frame")])
    cap = truth["captions"][0]
    assert abs(cap["start"] - START_FRAME / FPS) < 1e-6 and abs(cap["end"] - END_FRAME / FPS) < 1e-6
    return str(path)


@pytest.mark.parametrize("name", available_predictors())
def test_refines_start_and_end_to_the_source_frame(clip, name):
    predictor = get_predictor(name)
    start_idx, end_idx = 11, 25  # first 10 Hz sample with the caption, first without it again
    got = refine_boundaries(clip, BAND, [start_idx, end_idx], rate=10.0, predictor=predictor)
    assert got == pytest.approx([START_FRAME / FPS, END_FRAME / FPS], abs=1e-6)


def test_refine_intervals_and_grid_fallbacks(clip):
    predictor = get_predictor("auto")
    spans = refine_intervals(clip, BAND, [Interval(11, 25, 0.0)], 10.0, predictor)
    assert spans == [pytest.approx((START_FRAME / FPS, END_FRAME / FPS), abs=1e-6)]
    # Index 0 has nothing before it; an index past the last frame has nothing after it.
    got = refine_boundaries(clip, BAND, [0, 45], 10.0, predictor)
    assert got == pytest.approx([0.0, 4.5])
    # A (last old, first new) pair spanning two steps still finds the frame.
    got = refine_boundaries(clip, BAND, [(9, 11)], 10.0, predictor)
    assert got == pytest.approx([START_FRAME / FPS], abs=1e-6)


def test_change_position_picks_the_single_change():
    predictor = get_predictor("auto")
    rng = np.random.default_rng(0)
    base = rng.integers(0, 60, (1, 40, 320, 3), dtype=np.uint8).repeat(5, axis=0)
    frames = base.copy()
    frames[3:, 12:28, 60:260] = 255  # a bright block (caption-like band) from frame 3 on
    frames[3:, 16:24, 70:250:6] = 0
    assert change_position(predictor, frames) == 3


def test_single_pass_windows_refine_like_the_decoding_refiner(clip):
    """Frames kept during the main decode place boundaries exactly where decoding around them
    does; a window the model was sure of is dropped and reported for the decoding fallback."""
    from gpu_kernels.band import band_cropper
    from gpu_kernels.extents.windows import BoundaryWindows
    from gpu_kernels.video import iter_grid_windows

    predictor = get_predictor("auto")
    windows = BoundaryWindows(predictor)
    grid = []
    for idx, band, window in iter_grid_windows(clip, 10.0, band_cropper(BAND)):
        windows.add(idx, band, window)
        grid.append(band.rgb())
    windows.observe(predictor.predict(np.stack(grid)))
    assert 2 <= windows.kept < 10  # the two boundaries (and maybe a doubt or two), not all 40
    at = windows.refine([0, 11, 25, 45, *range(27, 39)])
    assert at[11] == pytest.approx(START_FRAME / FPS, abs=1e-6)
    assert at[25] == pytest.approx(END_FRAME / FPS, abs=1e-6)
    assert at[0] == 0.0 and at[45] == pytest.approx(4.5)  # nothing before 0 or after the end
    dropped = [b for b in range(27, 39) if at[b] is None]  # sure "nothing changed": not kept,
    assert len(dropped) >= 8  # so the caller refines such a boundary by decoding around it
    b = dropped[0]
    assert (b - 1) / 10 < refine_boundaries(clip, BAND, [b], 10.0, predictor)[0] <= b / 10
    with pytest.raises(ValueError):
        windows.add(99, grid[0], [])  # samples must arrive in order
