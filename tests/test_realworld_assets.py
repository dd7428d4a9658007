"""The realworld and hard benchmarks' committed scripts, and the libass renderer that burns them
(``synth/ass.py``): scripts parse, truth leaves scene text out and sits on the frame grid, and a
short render shows the caption exactly on the frames the truth names."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from synth.ass import (
    Event, LibassUnavailable, Piece, Style, ass_time_for_frame, cut_frames, footage_segment, render_montage, build_script, footage_dir, frame_at_or_after,
    frame_count, has_subtitles_filter, is_caption, parse_script, plain_text, read_script, render,
    require_subtitles_filter, truth, write_script,
)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
BENCH = BENCHMARKS / "realworld"


def _manifest(suite: str) -> list[dict]:
    clips = json.loads((BENCHMARKS / suite / "clips.json").read_text(encoding="utf-8"))["clips"]
    return [{**c, "script": str(BENCHMARKS / suite / c["script"])} for c in clips]


MANIFEST = _manifest("realworld")
HARD = _manifest("hard") + _manifest("hard3")
LANGUAGES = _manifest("languages")
REDRAW = (_manifest("redraw") + _manifest("redraw2") + _manifest("redraw3") + _manifest("fades")
          + _manifest("cuts") + _manifest("cuts2") + _manifest("cuts3") + _manifest("mixed") + _manifest("mixed2") + _manifest("mixed3")
          + _manifest("styles") + _manifest("styles2"))
CUTS = (_manifest("cuts") + _manifest("cuts2") + _manifest("cuts3")
        + [c for c in _manifest("mixed") + _manifest("mixed2") + _manifest("mixed3") + _manifest("styles")
           + _manifest("styles2") if "montage" in c])


def _render_needs(footage: str):
    """PyAV, FFmpeg with libass and the shared ``footage``, or the test is skipped; PyAV."""
    av = pytest.importorskip("av")
    if not has_subtitles_filter():
        pytest.skip("ffmpeg has no libass 'subtitles' filter")
    if not (footage_dir() / footage).exists():
        pytest.skip(f"no shared footage in {footage_dir()}")
    return av


def _on_grid(t: float, fps: Fraction) -> bool:
    k = round(t * fps)
    return abs(t - float(k / fps)) < 1e-5


@pytest.mark.parametrize("clip", MANIFEST + HARD + REDRAW, ids=[f"{Path(c['script']).parts[-3]}/{c['name']}"
                                                               for c in MANIFEST + HARD + REDRAW])
def test_committed_script(clip):
    script = read_script(clip["script"])
    fps = Fraction(clip["fps"])
    n = frame_count(clip["duration"], fps)
    assert (script.width, script.height) == (clip["width"], clip["height"])
    assert script.info.get("WrapStyle") == "2"  # line breaks only where the truth has them
    assert all(e.style in script.styles for e in script.events)
    caps = truth(script.events, fps, n)  # raises if a boundary is ambiguous on this frame grid
    assert len(caps) == clip["captions"] == sum(is_caption(e) for e in script.events)
    scene = {plain_text(e.text) for e in script.events if not is_caption(e)}
    assert not scene & {c["text"] for c in caps}
    for c in caps:
        assert _on_grid(c["start"], fps) and _on_grid(c["end"], fps), c
        assert 0 <= c["start"] < c["end"] <= clip["duration"] + 1e-6
        assert "\\" not in c["text"] and c["text"].strip()
    if clip["class"] == "textrich_nocaption":
        assert caps == []
    if clip["class"] in ("two_regions", "title_and_captions"):  # concurrent regions never start or end together
        regions = {}
        for e in script.events:
            regions.setdefault(e.style, []).extend([e.start, e.end])
        (a, b) = regions.values()
        assert min(abs(x - y) for x in a for y in b) >= 0.5 - 1e-6


def test_scene_text_is_marked_and_excluded():
    scene_events = [(c["name"], e) for c in MANIFEST for e in read_script(c["script"]).events
                    if not is_caption(e)]
    assert scene_events, "the URL clip should carry a Scene event"
    assert all(e.style.startswith("Scene") for _, e in scene_events)


@pytest.mark.parametrize("fps", [Fraction(24000, 1001), Fraction(25), Fraction(30000, 1001), Fraction(30)])
def test_ass_times_land_on_the_intended_frame(fps):
    for k in range(0, 2000):
        t = ass_time_for_frame(k, fps)
        assert round(t * 100) == pytest.approx(t * 100, abs=1e-9)  # whole centiseconds
        assert frame_at_or_after(t, fps) == k


def test_script_round_trip():
    styles = [Style("Default", "DejaVu Sans", 30), Style("Scene", "DejaVu Sans", 14, outline=0, alignment=1)]
    events = [Event(0.39, 1.59, "two\\Nlines", an=5, pos=(160, 90), fad=(200, 200)),
              Event(1.59, 1.99, "next"), Event(0.0, 3.0, "www.example.com", "Scene")]
    script = parse_script(build_script(events, styles, 320, 180))
    assert script.events == events
    assert list(script.styles.values()) == styles
    caps = truth(script.events, Fraction(25), 75)
    assert caps == [{"start": 0.4, "end": 1.6, "text": "two\nlines"}, {"start": 1.6, "end": 2.0, "text": "next"}]
    with pytest.raises(ValueError, match="within"):  # 2.00 s is a frame time at 25 fps: either frame
        truth([Event(1.59, 2.0, "next")], Fraction(25), 75)


@pytest.mark.parametrize("clip", CUTS, ids=[c["name"] for c in CUTS])
def test_cuts_montage_fits_the_evaluation_halves(clip):
    """Each piece of a cuts clip lies inside its footage's evaluation half, the pieces fill the
    clip exactly, and the manifest's cut frames are where the pieces meet."""
    if not footage_dir().exists():
        pytest.skip(f"no shared footage in {footage_dir()}")
    pieces = [Piece(**p) for p in clip["montage"]]
    fps = Fraction(clip["fps"])
    assert sum(p.frames for p in pieces) == frame_count(clip["duration"], fps)
    assert cut_frames(pieces) == clip["cuts"]
    assert all(a.footage != b.footage for a, b in zip(pieces, pieces[1:]))  # every cut a hard cut
    for p in pieces:
        seg = footage_segment(p.footage, "eval")
        assert p.part == "eval" and p.offset >= 0
        assert seg.start + p.offset + p.frames / fps <= seg.end + 1e-6


def test_render_montage_cuts_on_the_named_frames(tmp_path):
    av = _render_needs("snow_rally.mp4")
    w, h, fps = 320, 180, Fraction(25)
    write_script(tmp_path / "m.ass", [Event(ass_time_for_frame(10, fps), ass_time_for_frame(40, fps), "CUT")],
                 [Style("Default", "DejaVu Sans", 28)], w, h)
    pieces = [Piece("snow_rally.mp4", 0.5, 20), Piece("cups_whitetable_720p.mp4", 1.0, 25)]
    record = render_montage(tmp_path / "m.ass", pieces, (w, h), fps, tmp_path / "m.mp4", cache_dir=tmp_path)
    assert record["frames"] == 45 and record["cuts"] == [20]
    assert record["captions"] == [{"start": 0.4, "end": 1.6, "text": "CUT"}]
    with av.open(str(tmp_path / "m.mp4")) as c:
        top = [f.to_ndarray(format="gray")[: h // 2].astype(float) for f in c.decode(video=0)]
    assert len(top) == 45
    steps = [np.abs(b - a).mean() for a, b in zip(top, top[1:])]
    assert int(np.argmax(steps)) + 1 == 20  # the biggest change between frames is the cut


def test_missing_libass_is_a_clear_error():
    with pytest.raises(LibassUnavailable, match="subtitles"):
        require_subtitles_filter("/bin/false")


def test_render_burns_caption_on_the_truth_frames(tmp_path):
    av = _render_needs("station_signage.mp4")
    w, h, fps = 320, 180, Fraction(30)
    styles = [Style("Default", "DejaVu Sans", 28, outline=2, margin_v=10)]
    events = [Event(ass_time_for_frame(30, fps), ass_time_for_frame(90, fps), "HELLO WORLD")]
    write_script(tmp_path / "t.ass", events, styles, w, h)
    record = render(tmp_path / "t.ass", "station_signage.mp4", 5.0, tmp_path / "t.mp4", cache_dir=tmp_path,
                    size=(w, h))
    assert record["frames"] == 150
    assert record["captions"] == [{"start": 1.0, "end": 3.0, "text": "HELLO WORLD"}]

    def frames(path):
        with av.open(str(path)) as c:
            return [f.to_ndarray(format="gray").astype(int) for f in c.decode(video=0)]

    out = frames(tmp_path / "t.mp4")
    bg = frames(next(tmp_path.glob("station_signage_eval_*_pingpong.mp4")))
    assert len(out) == 150

    def changed(k, rows):  # pixels the caption altered: rendered frame vs its background frame
        return int((np.abs(out[k][rows] - bg[k][rows]) > 60).sum())

    bottom, top = slice(h - 50, h), slice(0, h // 2)
    assert changed(29, bottom) < 20 and changed(90, bottom) < 20  # frames just outside [start, end)
    assert changed(30, bottom) > 300 and changed(60, bottom) > 300 and changed(89, bottom) > 300
    assert changed(60, top) < 20


def test_hard_suite_covers_its_styles():
    """The hard suite's clips carry the styles its classes name (a regenerated script that lost
    them would silently make the benchmark easy again)."""
    by_class: dict[str, list] = {}
    for c in HARD:
        by_class.setdefault(c["class"], []).append(read_script(c["script"]))
    styles = {k: [s for sc in v for s in sc.styles.values()] for k, v in by_class.items()}
    assert all(s.border_style == 3 for k in ("boxed_dark", "boxed_light") for s in styles[k])
    assert all(s.primary in ("&H00121212", "&H005A1E14") for s in styles["dark_text"] + styles["boxed_light"])
    assert all(s.italic for s in styles["italic_colour"])
    assert all(c["reupload"]["crf"] >= 30 for c in HARD if c["class"] == "reupload")
    assert all(c["content"][1] < c["height"] for c in HARD if c["class"] == "letterbox")
    assert all("\\N{\\fs" in e.text for sc in by_class["bilingual_sizes"] for e in sc.events)


def test_render_letterbox_and_reupload(tmp_path):
    av = _render_needs("station_signage.mp4")
    fps = Fraction(30)  # the footage's
    styles = [Style("Default", "DejaVu Sans", 20, margin_v=6, italic=True, border_style=3)]
    events = [Event(ass_time_for_frame(12, fps), ass_time_for_frame(48, fps), "IN THE BAR")]
    write_script(tmp_path / "t.ass", events, styles, 320, 180)
    assert read_script(tmp_path / "t.ass").styles["Default"] == styles[0]
    record = render(tmp_path / "t.ass", "station_signage.mp4", 2.0, tmp_path / "t.mp4", cache_dir=tmp_path,
                    size=(320, 180), content=(320, 120), reupload={"size": [160, 90], "crf": 35})
    assert record["captions"] == [{"start": 0.4, "end": 1.6, "text": "IN THE BAR"}]
    with av.open(str(tmp_path / "t.mp4")) as c:
        frames = [f.to_ndarray(format="gray").astype(int) for f in c.decode(video=0)]
    assert len(frames) == 60 and frames[0].shape == (90, 160)  # re-encoded at the upload size
    assert frames[0][:12].mean() < 25  # the top bar: 30 of 180 rows, 15 of 90 after scaling
    assert frames[30][-14:].max() > 150 and frames[5][-14:].max() < 50  # the caption in the bottom bar


@pytest.mark.parametrize("clip", MANIFEST + HARD + LANGUAGES + REDRAW,
                         ids=[f"{Path(c['script']).parts[-3]}/{c['name']}" for c in MANIFEST + HARD + LANGUAGES + REDRAW])
def test_every_caption_line_fits_the_frame(clip):
    """WrapStyle 2 never wraps: a line wider than the frame is cut off, and its truth would hold
    letters nobody can see (moving_japan_vertical's bold English lines did, until the generator
    measured them in the face libass draws bold WenQuanYi Micro Hei with)."""
    import re
    import shutil
    import sys

    if shutil.which("fc-match") is None:
        pytest.skip("no fontconfig")
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    from make_scripts import text_width

    script = read_script(clip["script"])
    for e in script.events:
        if not is_caption(e):
            continue
        s = script.styles[e.style]
        for line in e.text.split("\\N"):
            m = re.match(r"\{\\fs(\d+)\}", line)
            size = int(m.group(1)) if m else s.size
            w = text_width(plain_text(line), s.font, size, s.bold) + 2 * s.outline
            room = script.width - (e.pos[0] if e.pos and e.an in (1, 4, 7) else 0)
            assert w <= room + 1, (e.text, round(w), room)
