"""A fading caption's boundaries go where its cue starts and ends, not where the model first
calls it a caption (opacity ~0.3-0.6, two or three frames into a 200 ms fade)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from gpu_kernels.extents.fades import fade_line, luma, luma_at, stage, text_pixels


def fade_edge(points, kind, frame_s):
    line = fade_line(points, frame_s)
    return None if line is None else line.edge(kind)

FRAME = 1 / 30


def _ramp(start: float, fade: float, n: int = 15, t0: float = 10.0) -> list[tuple[float, float]]:
    """(time, β) of frames from ``t0`` for a fade beginning at ``start`` lasting ``fade`` s."""
    return [(t0 + k * FRAME, float(np.clip((t0 + k * FRAME - start) / fade, 0, 1))) for k in range(n)]


def test_a_linear_fade_is_followed_to_its_start_and_its_end():
    start = 10.0 + 4 * FRAME
    pts = _ramp(start, 0.2)
    assert fade_edge(pts, "start", FRAME) == pytest.approx(start)
    assert fade_edge(pts, "end", FRAME) == pytest.approx(start + 6 * FRAME)  # 0.2 s on: 6 frames


def test_a_cut_drift_or_a_jumpy_change_is_no_fade():
    cut = [(10 + k * FRAME, 0.0 if k < 5 else 1.0) for k in range(12)]
    assert fade_edge(cut, "start", FRAME) is None
    one_frame_between = [(10 + k * FRAME, 0.0 if k < 5 else 0.5 if k == 5 else 1.0) for k in range(12)]
    assert fade_edge(one_frame_between, "start", FRAME) is None
    assert fade_edge(_ramp(10.1, 3.0, n=40), "start", FRAME) is None  # a 3-s drift: light or motion
    back_and_forth = [(10 + k * FRAME, b) for k, b in enumerate([0, 0, 0.2, 0.5, 0.2, 0.6, 0.9, 1, 1])]
    assert fade_edge(back_and_forth, "start", FRAME) is None
    steps = [(10 + k * FRAME, b) for k, b in enumerate([0, 0, 0.1, 0.12, 0.6, 0.62, 0.65, 1, 1])]
    assert fade_edge(steps, "start", FRAME) is None  # two reveals, not one line


def test_a_cut_followed_by_the_scene_drifting_on_is_no_fade():
    # Measured (redraw2 two_regions_station, no fade in the script): a caption cut off at 8.3 s
    # over a panning station scene. The pixels it left drift on to the later reference, so the
    # stages ramp after a cut frame that jumped 1.95 times the ramp's own step; every fade
    # placed in the redraw suites jumped at most 1.44 times it.
    stages = [0.0, 0.0, 0.0, 0.0, 0.0, 0.01, 0.01, 0.02, 0.02, 0.03, 0.04, 0.31, 0.44, 0.58, 0.75,
              0.85, 0.92, 0.97, 0.99, 1.0, 1.0]
    pts = [(7.933 + k * FRAME, b) for k, b in enumerate(stages)]
    assert fade_edge(pts, "end", FRAME) is None


def test_stage_reads_how_far_a_frame_is_from_one_reference_to_the_other():
    rng = np.random.default_rng(1)
    bg = rng.uniform(0, 120, (40, 200)).astype(np.float32)
    text = bg.copy()
    text[10:30, 20:180:3] = 235.0
    idx = text_pixels(bg, text)
    assert idx is not None and idx.size > 200
    for a in (0.0, 0.3, 0.7, 1.0):
        assert stage(luma_at((1 - a) * bg + a * text, idx), bg, text, idx) == pytest.approx(a, abs=1e-4)
    assert text_pixels(bg, bg + 5) is None  # nothing changed: nothing to measure


def test_luma_reads_a_yuv_bands_y_plane_where_the_rgb_conversion_agrees():
    from gpu_kernels.band import Band

    rng = np.random.default_rng(2)
    y = rng.integers(16, 236, (32, 64), dtype=np.uint8)
    data = np.concatenate([y, np.full((16, 64), 128, np.uint8)])  # neutral chroma: grey pixels
    band = Band(data, "yuv420p")
    idx = np.arange(0, 32 * 64, 7)
    assert np.array_equal(luma_at(band, idx), y.reshape(-1)[idx].astype(np.float32))
    assert np.array_equal(luma(band), y.astype(np.float32))
    rgb_luma = luma(Band.from_rgb(band.rgb()))  # BT.601 limited range: luma maps 16-235 to 0-255
    assert np.corrcoef(rgb_luma.ravel(), y.ravel())[0, 1] > 0.999


# --- end to end on a libass fade ---------------------------------------------------------------


def _render(tmp_path: Path) -> tuple[Path, list[dict]]:
    from synth.ass import Event, Style, ass_time_for_frame, footage_dir, has_subtitles_filter, render, write_script

    if not has_subtitles_filter():
        pytest.skip("ffmpeg has no libass 'subtitles' filter")
    if not (footage_dir() / "station_signage.mp4").exists():
        pytest.skip(f"no shared footage in {footage_dir()}")
    fps = Fraction(30)
    styles = [Style("Default", "Noto Sans CJK SC", 30, outline=2, margin_v=18)]
    events = [Event(ass_time_for_frame(16, fps), ass_time_for_frame(76, fps), "请问最近的地铁站怎么走", fad=(200, 200)),
              Event(ass_time_for_frame(100, fps), ass_time_for_frame(160, fps), "没想到这么晚了还有这么多人")]
    write_script(tmp_path / "c.ass", events, styles, 640, 360)
    record = render(tmp_path / "c.ass", "station_signage.mp4", 6.0, tmp_path / "c.mp4", cache_dir=tmp_path,
                    size=(640, 360))
    return tmp_path / "c.mp4", record["captions"]


def test_windows_place_a_libass_fade_at_its_cue_and_leave_a_cut_alone(tmp_path):
    from gpu_kernels.band import band_cropper
    from gpu_kernels.extents import get_predictor
    from gpu_kernels.extents.decode import decode_intervals
    from gpu_kernels.extents.windows import BoundaryWindows
    from gpu_kernels.video import iter_grid_windows

    clip, truth = _render(tmp_path)
    box = (0, 280, 640, 360)
    predictor = get_predictor("auto")
    windows = BoundaryWindows(predictor)
    grid = []
    for idx, band, window in iter_grid_windows(str(clip), 10.0, band_cropper(box)):
        windows.add(idx, band, window)
        grid.append(band.rgb())
    probs = predictor.predict(np.stack(grid))
    windows.observe(probs)
    spans = decode_intervals(probs)
    assert len(spans) == 2
    at = windows.refine([b for s in spans for b in (s.start, s.end)],
                        {**{s.start: "start" for s in spans}, **{s.end: "end" for s in spans}})
    got = [(at[s.start], at[s.end]) for s in spans]
    faded, cut = truth
    assert windows.fades == 2
    unplaced = windows.refine([b for s in spans for b in (s.start, s.end)])  # kinds unknown: no fade
    assert unplaced[spans[0].start] > got[0][0] + FRAME and windows.fades == 0
    # To the frame, give or take one: the model alone put the fade's start 2-3 frames late.
    assert got[0][0] == pytest.approx(faded["start"], abs=1.01 * FRAME)
    assert got[0][1] == pytest.approx(faded["end"], abs=2.01 * FRAME)
    assert got[1] == pytest.approx((cut["start"], cut["end"]), abs=1e-6)
