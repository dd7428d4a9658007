"""RapidOCR montages: many caption bands read in one detector pass, each box back in its band."""

import numpy as np
import pytest

from tasks.ocr.base import OcrBox, join_lines
from tasks.ocr.rapid import BAND_LINES

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


def test_layout_frames_are_detected_at_the_frame_side(ocr_engine):
    """recognize_frames detects whole 720p frames at FRAME_SIDE (not 736): a caption line sized
    as captions are (5% of the height) is still found and read, in the frame's own pixels."""
    from tasks.ocr.rapid import FRAME_SIDE

    assert FRAME_SIDE < ocr_engine.max_side
    from PIL import Image, ImageDraw, ImageFont

    from synth.fonts import font_for

    pil = Image.fromarray(frame_image(5, 1280, 720))
    font = ImageFont.truetype(font_for("Layout pass"), 36)
    ImageDraw.Draw(pil).text((480, 600), "Layout pass", font=font, fill=(255, 255, 255),
                             stroke_width=3, stroke_fill=(0, 0, 0))
    frame = np.asarray(pil)
    (boxes,) = ocr_engine.recognize_frames([frame])
    assert join_lines(boxes)[0] == "Layout pass"
    assert ocr_engine._frame_engine is not None  # its own detector, loaded on first use
    # ... and the recogniser the other scales use, not a copy of it
    assert ocr_engine._frame_engine.text_rec is ocr_engine._engine.text_rec is not None
    assert all(b.x + b.width <= 1280 and b.y + b.height <= 720 for b in boxes)
    assert all(580 <= b.y <= 620 for b in boxes)


def _caption_frame(text: str = "Layout pass", seed: int = 5) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    from synth.fonts import font_for

    pil = Image.fromarray(frame_image(seed, 1280, 720))
    font = ImageFont.truetype(font_for(text), 36)
    ImageDraw.Draw(pil).text((480, 600), text, font=font, fill=(255, 255, 255), stroke_width=3,
                             stroke_fill=(0, 0, 0))
    return np.asarray(pil)


def test_a_frame_the_language_detector_looked_at_is_not_detected_again(ocr_engine, monkeypatch):
    """The language detector finds lines with the engine's own detector at max_side
    (line_detector: the boxes its own LineDetector found), which keeps that detection for the
    frame's read in the layout pass: one detector run fewer. Other frames are detected at
    FRAME_SIDE as ever; a kept detection serves one read."""
    from tasks.ocr.tesseract import LineDetector

    frame = _caption_frame()
    lines = ocr_engine.line_detector()(frame)
    assert lines == LineDetector(ocr_engine.max_side)(frame)  # what the language detector saw before
    assert len(lines) == 1 and 580 <= lines[0][1] <= 620
    calls = {"max_side": 0, "frame_side": 0}
    kept = ocr_engine._kept()
    real = kept._detector
    monkeypatch.setattr(kept, "_detector", lambda img: calls.__setitem__("max_side", calls["max_side"] + 1)
                        or real(img))
    frames_engine = ocr_engine._frames_engine()
    assert frames_engine is not ocr_engine._engine
    real_frames = frames_engine.text_det
    frames_engine.text_det = lambda img: calls.__setitem__("frame_side", calls["frame_side"] + 1) or real_frames(img)
    try:
        (read,) = ocr_engine.recognize_frames([frame])
        assert calls == {"max_side": 0, "frame_side": 0} and join_lines(read)[0] == "Layout pass"
        (again,) = ocr_engine.recognize_frames([frame])  # served once: now the layout pass's scale
        assert calls == {"max_side": 0, "frame_side": 1} and join_lines(again)[0] == "Layout pass"
        other = frame.copy()
        other[0, 0] ^= 1
        ocr_engine.line_detector()(frame)
        ocr_engine.recognize_frames([other])
        assert calls == {"max_side": 1, "frame_side": 2}  # one pixel apart is another frame
        ocr_engine.recognize_frames([frame])
        assert calls == {"max_side": 1, "frame_side": 2}
    finally:
        frames_engine.text_det = real_frames


def test_detecting_lines_leaves_the_engine_reading(bands):
    """RapidOCR keeps a call's use_rec=False for later calls: after frame_lines on an engine
    whose frames and bands share a detector, bands and frames are still read."""
    from tasks.ocr.rapid import RapidOcrEngine

    engine = RapidOcrEngine(frame_side=736)
    try:
        frame = _caption_frame("Still reading", 7)
        assert engine.frame_lines(frame)
        assert join_lines(engine.recognize(frame))[0] == "Still reading"
        assert [join_lines(r)[0] for r in engine.recognize_batch(bands[:2])] == TEXTS[:2]
    finally:
        engine.close()


def _busy_band(text: str, seed: int, size: int = 28, width: int = 1280,
               height: int = 64) -> np.ndarray:
    """A short caption (white, black outline, ~30 px tall with it) centred in a band of random
    bright and dark patches: a two-character line over a busy scene, as in short videos."""
    from PIL import Image, ImageDraw, ImageFont

    from synth.fonts import font_for

    rng = np.random.default_rng(seed)
    img = np.full((height, width, 3), 120, np.float32)
    for _ in range(60):
        x, y = rng.integers(0, width), rng.integers(-10, height)
        w, h = rng.integers(20, 120), rng.integers(8, 40)
        img[max(0, y) : y + h, x : x + w] = rng.integers(60, 256, 3)
    pil = Image.fromarray(img.astype(np.uint8))
    d = ImageDraw.Draw(pil)
    font = ImageFont.truetype(font_for(text), size)
    x0, y0, x1, y1 = d.textbbox((0, 0), text, font=font, stroke_width=2)
    d.text(((width - (x1 - x0)) / 2 - x0, (height - (y1 - y0)) / 2 - y0), text, font=font,
           fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
    return np.asarray(pil)


def test_a_short_small_caption_over_a_busy_band_is_read_in_a_batch(ocr_engine, bands):
    """A 1280-px band with a 2-character caption ~30 px tall, batched with other bands: the
    montage's detector pass finds nothing in it, one-by-one reading does, and so must the
    batch (the band is read again alone)."""
    short = _busy_band("等等", seed=9)
    assert join_lines(ocr_engine.recognize(short))[0] == "等等"  # what one-by-one reading finds
    results = ocr_engine.recognize_batch(bands + [short])
    assert [join_lines(r)[0] for r in results] == TEXTS + ["等等"]
    h, w = short.shape[:2]
    for b in results[-1]:
        assert 0 <= b.x and b.x + b.width <= w and 0 <= b.y and b.y + b.height <= h


def test_only_bands_whose_tile_came_back_empty_are_read_again_alone(ocr_engine, bands, monkeypatch):
    """The montage's boxes stand where it read something; a tile with no box costs one
    ``recognize`` of that band (here band 0, made to come back empty, and the band with no
    caption), and its result is that band's."""
    montage = ocr_engine._montage

    def losing_band_0(layout, images):
        return {i: ([] if i == 0 else boxes) for i, boxes in montage(layout, images).items()}

    alone: list[np.ndarray] = []
    recognize = ocr_engine.recognize
    monkeypatch.setattr(ocr_engine, "_montage", losing_band_0)
    monkeypatch.setattr(ocr_engine, "recognize", lambda im: alone.append(im) or recognize(im))
    before = ocr_engine.reread
    results = ocr_engine.recognize_batch(bands)
    assert [id(im) for im in alone] == [id(bands[0]), id(bands[2])]
    assert ocr_engine.reread - before == 2
    assert [join_lines(r)[0] for r in results] == TEXTS
    assert results[0] == recognize(bands[0])


def test_a_reread_keeps_only_lines_like_the_captions_of_the_batch(ocr_engine, bands, monkeypatch):
    """A lone read also finds what the montage rightly passed over (a sign, a URL, texture read
    as text): of a reread, only confident lines of about the height of the lines the montage
    read in the batch are kept; with too few of those, the band's height stands for it."""
    heights = [b.height for boxes in ocr_engine.recognize_batch(bands) for b in boxes]
    line = float(np.median(heights))
    fake = {
        id(bands[0]): [OcrBox("Hello there", 0.99, 400, 40, 480, line),
                       OcrBox("www.example.com", 0.99, 10, 4, 200, 0.4 * line)],  # too small
        id(bands[1]): [OcrBox("你好世界", 0.6, 500, 40, 300, line)],  # not sure enough
        id(bands[3]): [OcrBox("Second line", 0.95, 0, 0, 1280, 140)],  # the band read whole
    }
    montage = ocr_engine._montage
    monkeypatch.setattr(ocr_engine, "recognize", lambda im: fake.get(id(im), []))
    monkeypatch.setattr(ocr_engine, "_montage", lambda layout, images: {
        i: ([] if i in (0, 1, 3) else boxes) for i, boxes in montage(layout, images).items()})
    results = ocr_engine.recognize_batch(bands)
    assert [b.text for b in results[0]] == ["Hello there"]
    assert results[1] == [] and results[3] == []
    assert [join_lines(r)[0] for r in results[4:]] == TEXTS[4:]

    # Nothing read in the batch: a caption line is taken to be the band's height / BAND_LINES.
    monkeypatch.setattr(ocr_engine, "_montage",
                        lambda layout, images: {t.index: [] for t in layout.tiles})
    band_line = bands[0].shape[0] / BAND_LINES
    fake[id(bands[0])] = [OcrBox("Hello there", 0.99, 400, 30, 480, band_line),
                          OcrBox("www.example.com", 0.99, 10, 4, 200, 0.4 * band_line)]
    assert [b.text for b in ocr_engine.recognize_batch(bands)[0]] == ["Hello there"]


def test_onnx_sessions_wait_for_work_without_spinning(ocr_engine, bands):
    # Spinning intra-op threads took the cores the decoder and encoders share with the OCR.
    import gc

    import onnxruntime as ort

    ocr_engine.recognize_batch(bands[:2])  # the band detector is made on first use
    sessions = [o for o in gc.get_objects() if isinstance(o, ort.InferenceSession)]
    assert sessions
    for s in sessions:
        assert s.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "0"
