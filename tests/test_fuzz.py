"""Property tests of the job inputs and the subtitle writers (hypothesis, bounded examples).

Every input is either accepted and then satisfies the contract, or refused with the product's
typed error — never another exception. Subtitles round-trip through strict SRT/WebVTT parsers.
"""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gpu_kernels.crop import region_to_box
from gpu_kernels.errors import InvalidCropRegion, InvalidFrameRange
from tasks.chunks import check_range
from tasks.subtitles import Cue, _clean, to_srt, to_vtt
from tasks.types import CropRegion

FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3), st.booleans(),
                    st.floats(0, 1), st.sampled_from([0.0, 1.0, 0.5, 1e-300, 1 - 1e-16, -0.0]))
junk = st.one_of(st.none(), st.text(max_size=10), st.binary(max_size=4), st.lists(st.integers(), max_size=5))


@FUZZ
@given(value=st.one_of(
    st.tuples(numbers, numbers, numbers, numbers),
    st.lists(numbers, max_size=6),
    st.text(max_size=40),
    st.lists(st.floats(0, 1), min_size=4, max_size=4).map(lambda v: ",".join(map(str, v))),
    st.dictionaries(st.sampled_from(["crop_left", "crop_top", "crop_right", "crop_bottom", "x"]), numbers),
    junk,
))
@example("nan,0,1,1")
@example("0,0,inf,1")
@example(" 0.1, 0.2 ,0.9,0.95")
def test_fuzz_crop_region_parse(value):
    try:
        r = CropRegion.parse(value)
    except InvalidCropRegion:
        return
    vals = r.as_tuple()
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in vals)
    assert r.crop_left < r.crop_right and r.crop_top < r.crop_bottom


@FUZZ
@given(region=st.tuples(*[st.floats(-0.1, 1.1)] * 4), w=st.integers(1, 8000), h=st.integers(1, 5000))
@example((0.0, 0.0, 1.0, 1.0), 1, 1)
@example((0.0, 0.0, 1.0, 1.0), 161, 91)
@example((0.999, 0.0, 1.0, 1.0), 7680, 4320)
def test_fuzz_region_to_box(region, w, h):
    try:
        x0, y0, x1, y1 = region_to_box(*region, w, h)
    except InvalidCropRegion:
        return
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert (x1 - x0) % 2 == 0 and (y1 - y0) % 2 == 0 and x1 - x0 >= 2 and y1 - y0 >= 2
    left, top, right, bottom = region
    # the box holds the region (grown outward to even sizes, clipped to the frame, ≤ 1 px short)
    assert x0 <= left * w + 1e-6 and y0 <= top * h + 1e-6
    assert x1 >= min(w, math.ceil(right * w)) - 1 and y1 >= min(h, math.ceil(bottom * h)) - 1


@FUZZ
@given(start=st.one_of(st.integers(-10**15, 10**15), numbers, junk),
       end=st.one_of(st.integers(-10**15, 10**15), numbers, junk), n=st.integers(0, 10**6))
def test_fuzz_frame_ranges(start, end, n):
    try:
        check_range(start, end, n)
    except InvalidFrameRange:
        return
    assert type(start) is int and type(end) is int and 0 <= start < end <= n


# --- subtitles ---------------------------------------------------------------------------

_SRT_TIME = re.compile(r"(\d{2,}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d),(\d{3})")
_VTT_TIME = re.compile(r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})")


def _ms(g: tuple[str, ...]) -> int:
    h, m, s, ms = map(int, g)
    return ((h * 60 + m) * 60 + s) * 1000 + ms


def parse_srt(doc: str) -> list[tuple[int, int, str]]:
    """A strict SRT reader: numbered blocks, one timing line, non-empty text lines."""
    assert doc.splitlines() == doc.split("\n")[:-1] or doc == ""  # no hidden line breaks
    assert "\r" not in doc
    out = []
    blocks = doc.split("\n\n")
    for i, block in enumerate(blocks, 1):
        lines = block.rstrip("\n").split("\n")
        assert lines[0] == str(i), block
        m = _SRT_TIME.fullmatch(lines[1])
        assert m, block
        text = lines[2:]
        assert text and all(ln.strip() == ln and ln for ln in text), block
        assert not any(_SRT_TIME.search(ln) for ln in text)
        out.append((_ms(m.groups()[:4]), _ms(m.groups()[4:]), "\n".join(text)))
    return out


def parse_vtt(doc: str) -> list[tuple[int, int, str]]:
    """A strict WebVTT reader (cue text with the three escapes the spec defines for us)."""
    assert doc.startswith("WEBVTT\n\n") and "\r" not in doc and "\x00" not in doc
    assert doc.splitlines() == doc.split("\n")[:-1]
    out = []
    body = doc[len("WEBVTT\n\n"):]
    for block in body.split("\n\n") if body else []:
        lines = block.rstrip("\n").split("\n")
        m = _VTT_TIME.fullmatch(lines[0])
        assert m, block
        text = lines[1:]
        assert text and all(ln for ln in text) and not any("-->" in ln for ln in text)
        assert not re.search(r"[<>]|&(?!amp;|lt;|gt;)", "\n".join(text)), text  # no markup, no bare &
        raw = "\n".join(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        out.append((_ms(m.groups()[:4]), _ms(m.groups()[4:]), raw))
    return out


hostile_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(["-->", "\n", "\n\n", "\r\n", "\r", "1", "00:00:01,000 --> 00:00:02,000", "WEBVTT",
                              "NOTE", "<b>", "</i>", "&amp;", "&", "{\\an8}", "\u2028", "\x85", "\x0b", "\x00",
                              "\t", " ", "字幕", "a"]), max_size=8).map("".join),
)
times = st.floats(0, 400_000, allow_nan=False, allow_infinity=False)


@FUZZ
@given(cues=st.lists(st.tuples(times, st.floats(0.0001, 20), hostile_text), max_size=6))
@example(cues=[(0.0006, 0.0008, "rounds to one millisecond")])
@example(cues=[(5.0, 1.0, "b"), (1.0, 1.0, "a")])
@example(cues=[(0.0, 1.0, "a --> b\n\n2\n00:00:01,000 --> 00:00:02,000\nforged")])
def test_fuzz_srt_and_vtt_round_trip(cues):
    cs = [Cue(s, s + d, t) for s, d, t in cues]
    if any(not _clean(c.text) for c in cs):
        with pytest.raises(ValueError):
            to_srt(cs)
        with pytest.raises(ValueError):
            to_vtt(cs)
        return
    srt, vtt = parse_srt(to_srt(cs)) if cs else [], parse_vtt(to_vtt(cs))
    assert len(srt) == len(vtt) == len(cs)  # no cue lost, none forged
    assert [s for s, _, _ in srt] == sorted(s for s, _, _ in srt)  # start order
    want = sorted((round(c.start * 1000), _clean(c.text)) for c in cs)
    assert sorted((s, t) for s, _, t in srt) == sorted((s, t.replace("-->", "→")) for s, t in want)
    assert sorted((s, t) for s, _, t in vtt) == want
    for s, e, _ in srt + vtt:
        assert e > s  # never an empty or inverted cue
    for c in cs:
        assert any(abs(e - c.end * 1000) <= 1 or e == s + 1 for s, e, _ in srt)


@pytest.mark.parametrize("bad", [
    Cue(float("nan"), 1, "x"), Cue(0, float("inf"), "x"), Cue(-1, 1, "x"), Cue(2, 1, "x"), Cue(1, 1, "x"),
    Cue(0, 1, ""), Cue(0, 1, " \n\r\n\t "), Cue(0, 1, "\x00\x01"),
])
def test_writers_refuse_impossible_cues(bad):
    with pytest.raises(ValueError):
        to_srt([bad])
    with pytest.raises(ValueError):
        to_vtt([bad])
