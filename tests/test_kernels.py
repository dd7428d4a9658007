import numpy as np
import pytest
import torch

from gpu_kernels.device import select_device
from gpu_kernels.errors import Fatal
from gpu_kernels.layout import Box, suggest_layout
from gpu_kernels.median import median_frame
from tasks.subtitles import Cue, to_srt, to_vtt


def test_device_selection(monkeypatch):
    monkeypatch.delenv("CAPTIONACC_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if expected == "cpu" and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        expected = "mps"
    assert select_device().type == expected
    assert select_device("cpu").type == "cpu"
    monkeypatch.setenv("CAPTIONACC_DEVICE", "cpu")
    assert select_device(None).type == "cpu"
    with pytest.raises(Fatal):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(Fatal):
            select_device("cuda")


def test_median_removes_moving_background():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(15, 8, 20, 3), dtype=np.uint8)
    frames[:, 2:6, 5:15] = 250  # static "text"
    med = median_frame(frames, torch.device("cpu"))
    assert med.shape == (8, 20, 3) and med.dtype == np.uint8
    assert (med[2:6, 5:15] == 250).all()
    expected = np.sort(frames.astype(int), axis=0)[7]
    assert (med == expected).all()
    with pytest.raises(ValueError):
        median_frame(frames[:0], torch.device("cpu"))


def _caption_boxes(n, texts):
    return [Box(i * 10, 0.35, 0.82, 0.65, 0.88, texts[i % len(texts)], 0.95) for i in range(n)]


def test_layout_prefers_varying_centered_low_band_over_a_static_logo():
    boxes = _caption_boxes(20, ["one", "two", "three", "four"])
    boxes += [Box(i * 10, 0.85, 0.03, 0.97, 0.07, "LOGO", 0.99) for i in range(20)]  # every frame
    boxes += [Box(50, 0.0, 0.0, 1.0, 1.0, "junk", 0.9)]  # a hallucinated full-frame box
    s = suggest_layout(boxes, 20, 16 / 9)
    assert s.anchor_type == "center"
    assert s.crop_top < 0.82 and s.crop_bottom > 0.88 and s.crop_bottom - s.crop_top < 0.15
    assert s.crop_left <= 0.2 and s.crop_right >= 0.8 and abs(s.crop_left + s.crop_right - 1) < 1e-6
    assert s.vertical_center == pytest.approx(0.85, abs=0.01)


def test_layout_without_text_falls_back_to_bottom_band():
    s = suggest_layout([], 30, 16 / 9)
    assert s.anchor_type == "default" and s.crop_top > 0.5 and s.crop_bottom <= 1.0


def test_srt_and_vtt():
    cues = [Cue(0, 1.5, "Hello"), Cue(3661.25, 3662.0, "line one\n\nline two")]
    srt = to_srt(cues)
    assert srt == ("1\n00:00:00,000 --> 00:00:01,500\nHello\n\n"
                   "2\n01:01:01,250 --> 01:01:02,000\nline one\nline two\n")
    vtt = to_vtt([Cue(0, 1, "a --> b")])
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\na --&gt; b\n"  # escaped, stays text
    for bad in [Cue(1, 1, "x"), Cue(-1, 1, "x"), Cue(0, 1, "  ")]:
        with pytest.raises(ValueError):
            to_srt([bad])


@pytest.mark.parametrize("n", range(1, 17))
def test_median_network_is_exact_on_every_binary_input(n):
    """0-1 principle: a comparator network that selects correctly on all 2^n binary inputs
    selects correctly on every input."""
    from gpu_kernels.median import selection_network

    x = ((np.arange(2**n)[None, :] >> np.arange(n)[:, None]) & 1).astype(np.uint8)  # (n, 2^n)
    rank = (n - 1) // 2
    wires = [row.copy() for row in x]
    for i, j in selection_network(n, rank):
        assert i < j
        wires[i], wires[j] = np.minimum(wires[i], wires[j]), np.maximum(wires[i], wires[j])
    assert np.array_equal(wires[rank], np.sort(x, axis=0)[rank])


@pytest.mark.parametrize("shape", [(15, 282, 64), (31, 9, 7, 3), (2, 5), (40, 6, 6)])
def test_median_matches_the_lower_median_for_any_stack(shape):
    rng = np.random.default_rng(len(shape))
    frames = rng.integers(0, 256, size=shape, dtype=np.uint8)
    before = frames.copy()
    med = median_frame(frames, torch.device("cpu"), max_frames=63)
    assert np.array_equal(med, np.sort(frames, axis=0)[(shape[0] - 1) // 2])
    assert np.array_equal(frames, before)  # the caller's stack is not sorted in place


def test_edit_distance():
    from gpu_kernels.text import edit_distance

    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == edit_distance("abc", "") == 3
    assert edit_distance("字幕内容", "字幕内容") == 0 and edit_distance("第2句", "第3句") == 1
