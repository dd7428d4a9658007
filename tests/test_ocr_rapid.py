"""RapidOCR montages: many caption bands read in one detector pass, each box back in its band."""

import numpy as np
import pytest

from tasks.ocr.base import join_lines

from .fixtures_media import _caption_layer, frame_image

TEXTS = ["Hello there", "你好世界", "", "Second line", "字幕测试", "The end", "再见朋友", "Good night"]


def _band(k: int, text: str, width: int = 1280, height: int = 140) -> np.ndarray:
    return frame_image(k, width, height, _caption_layer(width, height, text) if text else None)


@pytest.fixture(scope="module")
def bands():
    return [_band(k, t) for k, t in enumerate(TEXTS)]


def test_a_batch_of_bands_reads_each_band_into_its_own_result(ocr_engine, bands):
    results = ocr_engine.recognize_batch(bands)
    assert [join_lines(r)[0] for r in results] == TEXTS
    for img, boxes in zip(bands, results):
        h, w = img.shape[:2]
        for b in boxes:  # boxes are in the band's own pixels, not the montage's
            assert 0 <= b.x and b.x + b.width <= w and 0 <= b.y and b.y + b.height <= h


def test_batch_order_and_size_do_not_change_what_is_read(ocr_engine, bands):
    backwards = ocr_engine.recognize_batch(bands[::-1])
    assert [join_lines(r)[0] for r in backwards] == TEXTS[::-1]
    assert [join_lines(r)[0] for r in ocr_engine.recognize_batch(bands[1:2])] == [TEXTS[1]]
    assert ocr_engine.recognize_batch([]) == []


def test_full_frames_are_read_one_by_one(ocr_engine, bands):
    frame = frame_image(3, 640, 360, _caption_layer(640, 360, "Full frame"))
    mixed = ocr_engine.recognize_batch([frame, bands[0]])
    assert join_lines(mixed[0])[0] == "Full frame" and join_lines(mixed[1])[0] == "Hello there"
    assert mixed[0] == ocr_engine.recognize(frame)
