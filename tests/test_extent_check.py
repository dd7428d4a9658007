"""OCR-checked extents: real VP9 chunks of rendered captions, the real RapidOCR engine, and pair
probabilities written by hand to say "sure" or "unsure"."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from gpu_kernels.extents.base import DIFFERENT, EMPTY_EMPTY, EMPTY_VALID, SAME, VALID_EMPTY, PairProbs
from tasks.chunks import ChunkReader, ChunkWriter
from tasks.crop_infer import CaptionExtent, grid_seconds
from tasks.extent_check import (LONG_S, CheckStats, _cut, _groups, _smooth, check_extents, normalise,
                                probe_centres, text_distance)
from tasks.keys import manifest_key

FONTS = ["/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"]
FONT = next((f for f in FONTS if os.path.exists(f)), None)
needs_font = pytest.mark.skipif(FONT is None, reason="no CJK font installed")

W, H = 640, 80
PREFIX = "t/cropped_frames_v1"
# Three captions between caption-free stretches, in 10 Hz frames [start, end).
CAPTIONS = [(12, 27, "今天天气很好"), (40, 55, "我们一起去公园"), (68, 83, "明天见")]
N = 95
DURATION = N / 10


def _background(i: int, rng_seed: int = 5) -> np.ndarray:
    """A busy, slowly moving pattern: coloured blocks drifting sideways."""
    rng = np.random.default_rng(rng_seed)
    tiles = rng.integers(40, 215, size=(H // 8 + 1, W // 8 + 8, 3), dtype=np.uint8)
    big = np.repeat(np.repeat(tiles, 8, 0), 8, 1)
    shift = i % 64
    return np.ascontiguousarray(big[:H, shift : shift + W])


def _render(texts_by_frame: dict[int, str], n: int) -> list[np.ndarray]:
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 40)
    frames = []
    for i in range(n):
        img = Image.fromarray(_background(i))
        text = texts_by_frame.get(i)
        if text:
            d = ImageDraw.Draw(img)
            w = d.textlength(text, font=font)
            d.text(((W - w) / 2, 14), text, font=font, fill=(255, 255, 255), stroke_width=3,
                   stroke_fill=(0, 0, 0))
        frames.append(np.asarray(img))
    return frames


def _write_chunks(storage, captions, n: int) -> ChunkReader:
    by_frame = {i: t for a, b, t in captions for i in range(a, b)}
    writer = ChunkWriter(W, H, lambda rel, local: storage.put_file(f"{PREFIX}/{rel}", local))
    for i, img in enumerate(_render(by_frame, n)):
        writer.add(i, img)
    storage.put_bytes(manifest_key(PREFIX), json.dumps(writer.finish(version=1)).encode())
    return ChunkReader(storage, PREFIX)


def _probs(n_frames: int, rows: dict[int, np.ndarray] | None = None, base=None, seed: int = 0) -> PairProbs:
    """Probabilities for the n_frames - 1 pairs: ``base`` everywhere, ``rows`` where given;
    backward readings mirror the forward ones. The default base is "unsure" the way the model
    is on busy backgrounds: same or empty_empty about equally (~0.4 each, with noise), no
    class above 0.5, a change (different/empty_valid/valid_empty) at ~0.2."""
    rng = np.random.default_rng(seed)
    p = n_frames - 1
    if base is None:
        fwd = np.array([0.4, 0.06, 0.4, 0.07, 0.07]) + 0.05 * rng.random((p, 5))
    else:
        fwd = np.tile(np.asarray(base, float), (p, 1))
    for k, row in (rows or {}).items():
        fwd[k] = row
    fwd = (fwd / fwd.sum(1, keepdims=True)).astype(np.float32)
    bwd = fwd[:, [SAME, DIFFERENT, EMPTY_EMPTY, VALID_EMPTY, EMPTY_VALID]].copy()
    return PairProbs(fwd, bwd)


def _one_hot(k: int, p: float = 0.96) -> np.ndarray:
    row = np.full(5, (1 - p) / 4)
    row[k] = p
    return row


def _extent(a: int, b: int, score: float = -0.5) -> CaptionExtent:
    # Refined-looking times (not the grid's), to see which boundaries keep them.
    return CaptionExtent(a, b, round(a / 10 + 0.013, 4), round(b / 10 - 0.007, 4), score, True)


class CountingOcr:
    """The real engine, counting the images it is given."""

    def __init__(self, engine) -> None:
        self.engine, self.images, self.calls = engine, 0, 0
        self.batch_size = getattr(engine, "batch_size", 1)

    def recognize_batch(self, images):
        self.calls += 1
        self.images += len(images)
        return self.engine.recognize_batch(images)


@pytest.fixture(scope="module")
def three_captions(tmp_path_factory):
    from tasks.storage import LocalStorage

    storage = LocalStorage(tmp_path_factory.mktemp("extent-check") / "bucket")
    return _write_chunks(storage, CAPTIONS, N)


# --- the whole check, real chunks and the real engine ---------------------------------------


@needs_font
def test_unsure_long_span_is_cut_into_its_three_captions(three_captions, ocr_engine):
    ocr, stats = CountingOcr(ocr_engine), CheckStats()
    span = _extent(0, N)
    out = check_extents(three_captions, [span], _probs(N), ocr, DURATION, stats=stats)
    # The model's change probability is flat: single-frame reads bisect each cut to its frame.
    assert [(e.start_frame, e.end_frame) for e in out] == [(a, b) for a, b, _ in CAPTIONS], (out, stats.texts)
    for got, (a, b, text) in zip(out, CAPTIONS):
        # New boundaries are on the grid; the extent stays well formed.
        assert (got.start_time, got.end_time) == grid_seconds(got.start_frame, got.end_frame, DURATION)
        assert got.end_frame > got.start_frame and not got.refined
    assert all(p.end_frame <= q.start_frame for p, q in zip(out, out[1:]))
    read = {normalise(t) for _, probes in stats.texts for _, t in probes if t}
    assert {normalise(t) for *_, t in CAPTIONS} <= read, read
    # Every probe of the video went to the engine in one batch, then each of the 6 cuts took
    # at most 3 single-frame reads (probes 5 frames apart), one batch per bisection step.
    probes = len(probe_centres(0, N))
    assert stats.checked == 1 and ocr.images == stats.probes and probes < stats.probes <= probes + 3 * 6
    assert 2 <= ocr.calls <= 4


@needs_font
def test_cut_goes_to_the_models_change_peak(three_captions, ocr_engine):
    """Unsure everywhere, but the model's change probability peaks at each true boundary: the
    cuts land on those exact frames, wherever the probes fall."""
    rows = {}
    for a, b, _ in CAPTIONS:
        rows[a - 1] = np.array([0.3, 0.05, 0.3, 0.3, 0.05])  # appearing: the pair (a-1, a)
        rows[b - 1] = np.array([0.3, 0.05, 0.3, 0.05, 0.3])  # ending: the pair (b-1, b)
    out = check_extents(three_captions, [_extent(0, N)], _probs(N, rows), ocr_engine, DURATION)
    assert [(e.start_frame, e.end_frame) for e in out] == [(a, b) for a, b, _ in CAPTIONS]


@needs_font
def test_trim_keeps_a_refined_boundary_that_did_not_move(three_captions, ocr_engine):
    """A span that starts right with the first caption but runs on into the empty stretch after
    it keeps its refined start time; its new end is a grid time near the caption's end."""
    span = _extent(12, 38)
    out = check_extents(three_captions, [span], _probs(N), ocr_engine, DURATION)
    assert len(out) == 1
    got = out[0]
    assert got.start_frame == 12 and got.start_time == span.start_time
    assert abs(got.end_frame - 27) <= 3 and got.end_time == grid_seconds(12, got.end_frame, DURATION)[1]


@needs_font
def test_back_to_back_text_change_is_split(tmp_path, ocr_engine):
    from tasks.storage import LocalStorage

    caps = [(5, 30, "第一句字幕"), (30, 55, "完全不同的话")]
    reader = _write_chunks(LocalStorage(tmp_path / "b"), caps, 60)
    rows = {29: np.array([0.35, 0.3, 0.25, 0.05, 0.05])}  # the change, between frames 29 and 30
    out = check_extents(reader, [_extent(5, 55)], _probs(60, rows), ocr_engine, 6.0)
    assert [(e.start_frame, e.end_frame) for e in out] == [(5, 30), (30, 55)]
    assert out[0].start_time == _extent(5, 55).start_time and out[1].end_time == _extent(5, 55).end_time
    assert out[0].end_time == out[1].start_time == grid_seconds(30, 31, 6.0)[0]


def _confident(n: int, spans: list[tuple[int, int]]) -> PairProbs:
    rows = {}
    on = np.zeros(n, bool)
    for a, b in spans:
        on[a:b] = True
    for k in range(n - 1):
        rows[k] = _one_hot({(False, False): EMPTY_EMPTY, (False, True): EMPTY_VALID,
                            (True, False): VALID_EMPTY, (True, True): SAME}[on[k], on[k + 1]])
    return _probs(n, rows)


@needs_font
def test_confident_spans_pass_through_without_ocr(three_captions, ocr_engine):
    ocr = CountingOcr(ocr_engine)
    extents = [_extent(a, b, score=-0.04) for a, b, _ in CAPTIONS]
    out = check_extents(three_captions, extents, _confident(N, [(a, b) for a, b, _ in CAPTIONS]), ocr, DURATION)
    assert out == extents and all(o is e for o, e in zip(out, extents))
    assert ocr.images == 0 and ocr.calls == 0


@needs_font
def test_unsure_span_without_text_is_dropped_sure_one_kept(three_captions, ocr_engine):
    """[28, 39) lies between captions and the model hesitated there: no probe reads text, so it
    goes. The confident captions around it stay, unprobed; so does a confident short span over
    nothing (the caption OCR decides)."""
    ocr, stats = CountingOcr(ocr_engine), CheckStats()
    sure = [(12, 27), (40, 55), (86, 92)]
    rows = {k: _confident(N, sure).forward[k] for k in range(N - 1) if not 27 <= k < 40}
    probs = _probs(N, rows)
    extents = [_extent(12, 27), _extent(28, 39), _extent(40, 55), _extent(86, 92)]
    out = check_extents(three_captions, extents, probs, ocr, DURATION, stats=stats)
    assert out == [extents[0], extents[2], extents[3]]
    assert stats.checked == 1 and stats.dropped == 1 and ocr.images == len(probe_centres(28, 39))


@needs_font
def test_a_sure_end_the_decoder_overruled_is_checked(three_captions, ocr_engine):
    """Held-out scene_text_station: the model read the caption's end surely (valid_empty 0.98),
    then "same" (0.85) over the caption-free frames with a sign in the band until the next
    caption; the decoder kept one span for both, 1.3 s too long, and neither unsure nor long.
    The overruled end is checked: the span is cut back to the caption."""
    ocr, stats = CountingOcr(ocr_engine), CheckStats()
    rows = {k: _confident(N, [(12, 40)]).forward[k] for k in range(N - 1)}
    rows[26] = _one_hot(VALID_EMPTY, 0.98)
    rows.update({k: _one_hot(SAME, 0.85) for k in range(27, 39)})
    span = _extent(12, 40, score=-0.2)
    out = check_extents(three_captions, [span], _probs(N, rows), ocr, DURATION, stats=stats)
    assert stats.checked == 1 and stats.unsure == 0 and ocr.images > 0
    assert len(out) == 1 and out[0].start_frame == 12 and abs(out[0].end_frame - 27) <= 2
    # The same span without the sure end in it is left alone, unread.
    ocr = CountingOcr(ocr_engine)
    rows[26] = _one_hot(SAME, 0.85)
    assert check_extents(three_captions, [span], _probs(N, rows), ocr, DURATION) == [span]
    assert ocr.images == 0


@needs_font
def test_long_sure_span_is_checked_and_kept_if_nothing_is_read(tmp_path, ocr_engine):
    from tasks.storage import LocalStorage

    n = 60
    reader = _write_chunks(LocalStorage(tmp_path / "b"), [], n)
    span = _extent(2, n - 2)
    assert span.end_time - span.start_time > LONG_S
    ocr, stats = CountingOcr(ocr_engine), CheckStats()
    out = check_extents(reader, [span], _confident(n, [(2, n - 2)]), ocr, n / 10, stats=stats)
    assert out == [span] and stats.long == 1 and ocr.images > 0 and stats.dropped == 0


# --- the pieces ------------------------------------------------------------------------------


def test_probe_centres_cover_the_span_every_half_second():
    c = probe_centres(10, 63)
    assert c[0] == 11 and c[-1] == 61  # first probe reads 10..12, last 60..62
    assert max(b - a for a, b in zip(c, c[1:])) <= 5
    assert probe_centres(7, 8) == [7] and probe_centres(7, 9) == [7]
    assert probe_centres(0, 4) == [1, 2]


def test_text_comparison():
    assert normalise("Hello,  World!") == "helloworld" and normalise("ＡＢ１") == "ab1"
    assert text_distance("给谁做就说给谁做的", "给谁做就说给谁做") <= 0.2
    assert text_distance("过分", "太过分") > 0.2  # a real change, not noise
    assert text_distance("", "abc") == 1.0


def test_groups_and_smoothing():
    assert _groups(["", "", "ab", "ab", "", "cd"]) == [(0, 2, False), (2, 4, True), (4, 5, False), (5, 6, True)]
    # One missed or garbled reading between two agreeing ones is noise...
    assert _smooth(["abcdef", "", "abcdef"]) == ["abcdef"] * 3
    assert _smooth(["abcdef", "xyz", "abcdef"]) == ["abcdef"] * 3
    # ...but text read once between empty probes is a short caption.
    assert _smooth(["", "xyz", ""]) == ["", "xyz", ""]


def test_cut_picks_the_highest_change_then_the_middle():
    change = np.zeros(30)
    change[17] = 0.9  # pair (17, 18)
    assert _cut(change, 15, 20) == 18
    assert _cut(np.zeros(30), 10, 15) in (12, 13)  # flat: the middle
    assert _cut(change, 20, 25) in (22, 23)  # the peak lies outside: ignored


def test_unsure_means_a_stretch_of_hesitation_not_isolated_dips():
    from tasks.extent_check import UNSURE_RUN, _averaged, _change, is_unsure

    n = 60
    sure = _confident(n, [(10, 50)])
    ext = _extent(10, 50)

    def check(dips: list[int]) -> bool:
        f = sure.forward.copy()
        for k in dips:
            f[k] = [0.45, 0.05, 0.4, 0.05, 0.05]  # same or empty_empty, the model cannot tell
        avg = _averaged(PairProbs(f, f[:, [SAME, DIFFERENT, EMPTY_EMPTY, VALID_EMPTY, EMPTY_VALID]]))
        return is_unsure(avg, _change(avg), ext)

    assert not check([])
    assert not check([15, 16, 25, 26, 27, 40])  # motion, scene cuts: short dips, many of them
    assert check(list(range(20, 20 + UNSURE_RUN)))  # a stretch the model hesitated over
    # A span shorter than the run: unsure when every one of its pairs is.
    short = _extent(20, 22)
    avg = _averaged(_probs(n))
    assert is_unsure(avg, _change(avg), short)
    avg = _averaged(sure)
    assert not is_unsure(avg, _change(avg), short)


# --- gaps: captions the model did not see at all --------------------------------------------


@needs_font
def test_caption_the_model_missed_is_found_from_layout_evidence(three_captions, ocr_engine):
    """The model saw only the first caption (confidently); the layout step's OCR read text at
    frames inside the other two. Those gaps are probed and the missed captions come back."""
    first = CAPTIONS[0]
    extents = [_extent(first[0], first[1], score=-0.04)]
    probs = _confident(N, [(first[0], first[1])])
    ocr, stats = CountingOcr(ocr_engine), CheckStats()
    evidence = [20, 45, 75]  # one sighting per caption; the first is covered
    out = check_extents(three_captions, extents, probs, ocr, DURATION, stats=stats, evidence=evidence)
    assert stats.missed == 2 and stats.gaps >= 2
    assert out[0] is extents[0]
    assert len(out) == 3, (out, stats.texts)
    for got, (a, b, _) in zip(out[1:], CAPTIONS[1:]):
        assert abs(got.start_frame - a) <= 3 and abs(got.end_frame - b) <= 3, (got, a, b)
    # Without evidence nothing is probed: the same blind model costs nothing and finds nothing.
    ocr2 = CountingOcr(ocr_engine)
    assert check_extents(three_captions, extents, probs, ocr2, DURATION) == extents and ocr2.calls == 0


def test_layout_evidence_keeps_region_and_drops_static_text():
    from tasks.extent_check import layout_evidence
    from tasks.types import CropRegion

    region = CropRegion(0.1, 0.8, 0.9, 0.98)
    boxes = [(f, 0.3, 0.85, 0.7, 0.92, f"caption {f // 20}", 0.95) for f in range(0, 100, 10)]
    boxes += [(f, 0.8, 0.86, 0.88, 0.9, "LOGO", 0.99) for f in range(0, 100, 10)]  # always there
    boxes += [(35, 0.3, 0.1, 0.7, 0.15, "top text", 0.99)]  # outside the region
    boxes += [(55, 0.3, 0.85, 0.7, 0.92, "faint", 0.4)]  # too unsure
    assert layout_evidence(boxes, region) == list(range(0, 100, 10))


def test_a_glyph_read_beside_several_captions_is_the_scenes():
    """A letter block in the band read as a glyph alone and beside every caption is scene text:
    dropped from the readings; a caption's own two lines are not."""
    from tasks.extent_check import _recurring_lines, _without_lines

    texts = ["冈", "冈\nBreakfast is served.", "Breakfast is served.", "冈", "Nothing went to plan.\n冈",
             "", "We should leave.\n冈", "你还记得我们吗\nDo you remember", "你还记得我们吗\nDo you remember",
             "你还记得我们吗", "你还记得我们吗\nDo you remember"]
    assert _recurring_lines(texts) == {"冈"}
    # A caption held over a sign, read alone and beside a different garbled piece of the sign
    # in other probes (realworld midframe_station), is the caption.
    held = ["这场雪大概要下到明天中午"] * 3 + ["这场雪大概要下到明天中午\n小日色排の0は（委口出礼）",
                                           "这场雪大概要下到明天中午\n小日急越Dは（美口名礼）"]
    assert _recurring_lines(held) == set()
    assert _without_lines("冈\nBreakfast is served.", {"冈"}) == "breakfastisserved"


def test_a_probe_that_read_part_of_a_caption_is_that_caption():
    from tasks.extent_check import _same

    assert _same(normalise("three hours to here."), normalise("It took us three hours to get here."))
    assert not _same(normalise("我们得走了"), normalise("我们得在天黑之前赶回营地"))  # a shared opening only
    assert not _same(normalise("here"), normalise("It took us three hours to get here."))  # too little of it
    assert not _same("", "abc") and _same("", "")


def test_a_caption_read_with_a_signs_lines_is_that_caption():
    """A caption held over the cuts of an edit reads, in one shot, with a sign's lines above and
    below it (cuts benchmark: 下北沢駅 / caption / 小田急線のりば split a caption in three and
    lost its middle). The sign's word read alone is not the caption."""
    from tasks.extent_check import _same

    cap = normalise("这次旅行让我想明白了很多事")
    with_sign = "\n".join(normalise(x) for x in ("下北沢駅", "这次旅行让我想明白了很多事", "小田急線のりば（東口改札）"))
    assert _same(cap, with_sign) and _same(with_sign, cap)
    assert _groups([cap, with_sign, with_sign, cap]) == [(0, 4, True)]
    assert not _same(normalise("下北沢駅"), with_sign)
    assert not _same(normalise("很多事"), with_sign)  # too short to be sure of


@needs_font
def test_a_cue_of_a_few_frames_the_model_only_hesitated_over_is_found(tmp_path, ocr_engine):
    """A 0.3-s cue on a background the model is blind to leaves only a brief dip in its
    P(empty_empty); the layout's 0.5-s sampling stepped over it. The dip is probed and the cue
    comes back; a lone glyph shown the same way, and a dip over nothing, add no caption."""
    from tasks.storage import LocalStorage

    n = 60
    reader = _write_chunks(LocalStorage(tmp_path / "b"), [(5, 20, "今天天气很好"), (31, 34, "小心一点"),
                                                         (45, 48, "好")], n)
    probs = _confident(n, [(5, 20)])
    dip = _one_hot(EMPTY_EMPTY, 0.8)
    for k in (31, 32, 45, 46, 52):  # the cue's pairs, the glyph's, and one over nothing
        probs.forward[k] = dip
        probs.backward[k] = dip[[SAME, DIFFERENT, EMPTY_EMPTY, VALID_EMPTY, EMPTY_VALID]]
    first = _extent(5, 20, score=-0.04)
    stats = CheckStats()
    out = check_extents(reader, [first], probs, CountingOcr(ocr_engine), n / 10, stats=stats)
    assert stats.dips == 3
    assert out[0] is first and [(e.start_frame, e.end_frame) for e in out[1:]] == [(31, 34)], stats.texts
