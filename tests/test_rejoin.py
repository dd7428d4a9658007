"""Split pieces of one caption joined by reading them again as one span (tasks/rejoin.py).

The readings are the mixed3 benchmark's (vi_bright_moving: white text with no outline over a
white table, split by the extents model where a hand moved behind it)."""

import pytest

from tasks.pipeline import Caption
from tasks.rejoin import MAX_REREADS, rejoin_pieces
from tasks.types import CaptionOcrResult

TRUTH = "Ôi, cảnh từ trên này đẹp quá!"


def cap(s, e, text, conf, region=0):
    return Caption(s, e, s / 10, e / 10, text, conf, e - s, region)


class Reader:
    """Readings of spans as the OCR engine gave them; any other span reads nothing."""

    def __init__(self, spans: dict[tuple[int, int], tuple[str, float]]):
        self.spans, self.asked = spans, []

    def __call__(self, start, end):
        self.asked.append((start, end))
        text, conf = self.spans.get((start, end), ("", 0.0))
        return CaptionOcrResult(text, conf, 15)


def test_garbled_pieces_of_one_caption_are_joined():
    caps = [cap(12, 16, "Ôi, cảnh từ trên này đẹ': ::'“i", 0.79), cap(24, 27, "Ôi, cảnh từ trên này đẹp", 0.9),
            cap(27, 35, "Ôi, cảnh từ trên này đẹp quái", 0.94), cap(35, 38, "Ôi, cảnh từ trên này", 0.92),
            cap(45, 61, "Ngày mai tàu chạy lúc 7:30.", 0.95)]
    read = Reader({(12, 38): (TRUTH, 0.95)})
    out = rejoin_pieces(caps, read)
    # The run of pieces with the caption after it (0.7 s on) first, then without it.
    assert read.asked == [(12, 61), (12, 38)]
    assert [(c.start_frame, c.end_frame, c.text) for c in out] == [(12, 38, TRUTH), (45, 61, "Ngày mai tàu chạy lúc 7:30.")]
    assert out[0].start == 1.2 and out[0].end == 3.8 and out[0].confidence == 0.95


def test_a_different_caption_is_not_swallowed():
    # A short, unsure caption after a long one: read together they give the long one's text,
    # which does not hold the short one's: both stay.
    caps = [cap(0, 30, "Cuối cùng chúng ta cũng tới biển rồi!", 0.93), cap(31, 37, "Đợi ở đây nhé, tôi quay", 0.85)]
    read = Reader({(0, 37): ("Cuối cùng chúng ta cũng tới biển rồi!", 0.95)})
    assert rejoin_pieces(caps, read) == caps and read.asked == [(0, 37)]


def test_a_short_caption_read_surely_is_not_read_again():
    caps = [cap(0, 20, "Where are you going?", 0.97), cap(20, 25, "Home.", 0.96), cap(25, 45, "At this hour?", 0.95)]
    read = Reader({})
    assert rejoin_pieces(caps, read) == caps and read.asked == []


def test_a_joined_reading_less_sure_than_a_piece_is_not_taken():
    caps = [cap(0, 4, "Nói thật, tôBi khên-;ngẻ", 0.51), cap(4, 12, "Nói thậ tôi khô như vậ", 0.91)]
    read = Reader({(0, 12): ("Nói thật, tôi không ngờ lại như vậy", 0.9)})
    assert rejoin_pieces(caps, read) == caps
    read = Reader({(0, 12): ("Nói thật, tôi không ngờ lại như vậy", 0.95)})
    assert [c.text for c in rejoin_pieces(caps, read)] == ["Nói thật, tôi không ngờ lại như vậy"]


def test_inside_a_span_an_unsure_piece_may_read_noise_but_its_ends_must_fit():
    whole = "Nói thật, tôi không ngờ lại như vậy"
    caps = [cap(0, 2, "_Nói thật, tôBi khên-;ngẻ: lại ni vậy", 0.51), cap(2, 5, "6ikhôn g¿ tzin", 0.35),
            cap(5, 12, "Nói thậ tôi khô như vậ", 0.91), cap(18, 21, "Cái áo khoác này", 0.92)]
    # The longest span ends on the next caption's first piece, which the joined reading does not
    # hold: not taken; the next span is.
    read = Reader({(0, 21): (whole, 0.96), (0, 12): (whole, 0.95)})
    out = rejoin_pieces(caps, read)
    assert read.asked == [(0, 21), (0, 12)]
    assert [(c.start_frame, c.end_frame, c.text) for c in out] == [(0, 12, whole), (18, 21, "Cái áo khoác này")]


def test_regions_gaps_and_empty_readings():
    # Pieces in two regions, or more than a second apart, are never one caption; a piece that
    # read nothing passes through for the merge to drop.
    caps = [cap(0, 5, "Ôi, cảnh từ trên", 0.6), cap(5, 10, "Ôi, cảnh từ trên này", 0.6, region=1),
            cap(10, 14, "", 0.0), cap(30, 35, "Ôi, cảnh từ trên này đẹp", 0.6)]
    read = Reader({})
    assert rejoin_pieces(caps, read) == caps and read.asked == []


def test_rereads_per_run_are_bounded():
    caps = [cap(5 * k, 5 * k + 5, f"piece number {k} of many", 0.5) for k in range(12)]
    read = Reader({})
    assert rejoin_pieces(caps, read) == caps
    assert len(read.asked) == MAX_REREADS


def test_a_span_does_not_end_on_an_unsure_glyph():
    # mixed benchmark, ko_cuts: "시" read at 0.49 for 0.1 s as the caption went; the merge drops
    # it, and the caption must not be stretched over it.
    caps = [cap(44, 71, "고마워요, 정말 친절하시네요.", 0.92), cap(71, 72, "시", 0.49)]
    read = Reader({(44, 72): ("고마워요, 정말 친절하시네요.", 0.94)})
    assert rejoin_pieces(caps, read) == caps and read.asked == []
