#!/usr/bin/env python3
"""Generate the cuts benchmark: captions burned with libass over montages of the real footage
with hard cuts, as edited video has them (every other suite plays one shot, looped).

    .venv/bin/python benchmarks/cuts/make_scripts.py [--seed N --dest DIR]

Writes ``scripts/<clip>.ass`` and ``clips.json`` (with each clip's montage: footage, offset,
frames per piece) next to this file, once, from a fixed seed; the output is committed and is
the benchmark. Texts, fonts and caption styles come from ``../realworld/make_scripts.py``;
what is new is the background: pieces of the footage's evaluation halves cut together.
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent / "realworld"))

from make_scripts import (  # noqa: E402
    WHITE, YELLOW, Frame, dialogue_style, draw_args, plain_clip, texts_for, timeline, write_if_changed,
    write_manifest, zh_or_en,
)
from synth.ass import Piece, build_script, check_fonts, cut_frames, footage_segment  # noqa: E402

SEED = 20261207
FPS = Fraction(30000, 1001)
LANDSCAPE, VERTICAL = (1280, 720), (720, 1280)
PLAIN = ["dog_brightfloor_720p.mp4", "snow_rally.mp4", "cups_whitetable_720p.mp4", "station_signage.mp4",
         "japan_night_signs_vertical.mp4", "blocks_letters_720p.mp4"]
TEXTY = ["blocks_letters_720p.mp4", "station_signage.mp4", "japan_night_signs_vertical.mp4"]
MIN_PIECE, MAX_PIECE = 0.3, 3.5  # seconds; every evaluation half is at least 4.85 s
CLEAR = 0.3  # a cut inside a caption stays this far from its boundaries (cut_mid)

# (name, class, size, seconds, language, font)
CLIPS = [
    ("cut_mid_zh", "cut_mid", LANDSCAPE, 30.0, "zh", "Noto Sans CJK SC"),
    ("cut_mid_en", "cut_mid", LANDSCAPE, 30.0, "en", "DejaVu Sans"),
    ("cut_sync_zh", "cut_sync", LANDSCAPE, 30.0, "zh", "WenQuanYi Micro Hei"),
    ("cut_sync_mixed", "cut_sync", LANDSCAPE, 30.0, "zh+en", "Noto Serif CJK SC"),
    ("fast_cuts_zh", "fast_cuts", LANDSCAPE, 30.0, "zh", "Noto Sans CJK SC"),
    ("fast_cuts_vertical", "fast_cuts", VERTICAL, 30.0, "zh+en", "WenQuanYi Micro Hei"),
    ("cut_scene_text_zh", "cut_scene_text", LANDSCAPE, 30.0, "zh", "Noto Serif CJK SC"),
    ("cut_scene_text_en", "cut_scene_text", LANDSCAPE, 30.0, "en", "DejaVu Sans"),
]


def frame_of(t: float) -> int:
    return round(t * FPS)


def cuts_every(rng: random.Random, fr: Frame, spacing: tuple[float, float]) -> list[int]:
    """Cut frames from the clip's start to its end, ``spacing`` seconds (drawn uniformly) apart."""
    cuts, t = [], 0.0
    while True:
        t += rng.uniform(*spacing)
        if t > fr.duration - MIN_PIECE:
            return cuts
        cuts.append(frame_of(t))


def split_long(cuts: list[int], n_frames: int, rng: random.Random, avoid: list[int] = ()) -> list[int]:
    """``cuts`` (frame indices) with more added until no piece is longer than MAX_PIECE, each new
    cut kept CLEAR of the frames in ``avoid`` where the piece allows."""
    cuts = sorted(set(cuts))
    longest, least = frame_of(MAX_PIECE), frame_of(MIN_PIECE)
    clear = frame_of(CLEAR)
    while True:
        edges = [0, *cuts, n_frames]
        long = [(a, b) for a, b in zip(edges, edges[1:]) if b - a > longest]
        if not long:
            return cuts
        a, b = long[0]
        options = [k for k in range(a + least, b - least) if all(abs(k - x) >= clear for x in avoid)]
        cuts = sorted(cuts + [rng.choice(options or list(range(a + least, b - least)))])


def pieces_for(cuts: list[int], n_frames: int, rng: random.Random, pool: list[str]) -> list[Piece]:
    """One piece per stretch between cuts, each from another footage than the one before, at a
    random offset in its evaluation half."""
    edges = [0, *cuts, n_frames]
    out, last = [], None
    for a, b in zip(edges, edges[1:]):
        name = rng.choice([f for f in pool if f != last])
        last = name
        seg = footage_segment(name, "eval")
        room = seg.end - seg.start - (b - a) / FPS - 0.05
        out.append(Piece(name, round(rng.uniform(0.0, max(0.0, float(room))), 3), b - a))
    return out


def gen_cut_mid(rng, fr, language):
    """Bottom captions, each crossed by a cut at least CLEAR inside it (longer ones by two)."""
    style = dialogue_style(rng, fr)
    pools = texts_for(rng, language)
    cues = timeline(rng, fr, dur=(1.5, 4.0), gap=(0.3, 1.2))
    events, cuts, bounds = [], [], []
    for t0, t1 in cues:
        events.append(fr.event(t0, t1, pools[zh_or_en(rng, language)].take(style, fr.width - 2 * style.margin_l)))
        bounds += [frame_of(t0), frame_of(t1)]
        n = 2 if t1 - t0 > 3.0 else 1
        for k in range(n):
            lo, hi = t0 + CLEAR + k * (t1 - t0) / n, t0 + (k + 1) * (t1 - t0) / n - CLEAR
            if hi > lo:
                cuts.append(frame_of(rng.uniform(lo, hi)))
    return [style], events, split_long(cuts, frame_of(fr.duration), rng, bounds), PLAIN


def gen_cut_sync(rng, fr, language):
    """Caption changes on a cut (an editor's cut on dialogue), a few frames off one, captions
    that end or start on a cut; cuts inside long captions too."""
    style = dialogue_style(rng, fr)
    pools = texts_for(rng, language)
    max_w = fr.width - 2 * style.margin_l
    events, cuts, bounds = [], [], []
    t = rng.uniform(0.5, 1.0)
    end = fr.duration - 0.5
    while True:
        d = rng.uniform(1.4, 3.0)
        if t + d > end:
            break
        kind = rng.choice(["on_change", "on_change", "near_change", "ends_on_cut", "starts_on_cut"])
        s, e = frame_of(t), frame_of(t + d)
        events.append(fr.event(s / FPS, e / FPS, pools[zh_or_en(rng, language)].take(style, max_w)))
        bounds += [s, e]
        if kind == "starts_on_cut":
            cuts.append(s)
        if kind == "on_change":
            cuts.append(e)
            t = e / FPS  # the next caption starts on the same frame
        elif kind == "near_change":
            cuts.append(e + rng.choice([-3, -2, -1, 1, 2, 3]))
            t = e / FPS
        else:
            if kind == "ends_on_cut":
                cuts.append(e)
            t = e / FPS + rng.uniform(0.4, 1.0)
    cuts = [c for c in cuts if 0 < c < frame_of(fr.duration)]
    return [style], events, split_long(cuts, frame_of(fr.duration), rng, bounds), PLAIN


def gen_fast_cuts(rng, fr, language):
    """Short-video style: a cut every 0.3-1.0 s wherever it falls, bold captions that move
    between the lower third and the middle."""
    style = dialogue_style(rng, fr, scale=1.1, bold=True, primary=rng.choice([WHITE, YELLOW]))
    style = replace(style, outline=style.outline + 1)
    pools = texts_for(rng, language)
    events = []
    for t0, t1 in timeline(rng, fr, dur=(1.2, 3.0), gap=(0.2, 0.8)):
        y = round(fr.height * rng.choice([0.5, 0.62, 0.72, 0.8]))
        text = pools[zh_or_en(rng, language)].take(style, fr.width - 2 * style.margin_l)
        events.append(fr.event(t0, t1, text, an=5, pos=(fr.width // 2, y)))
    cuts = cuts_every(rng, fr, (0.3, 1.0))
    return [style], events, cuts, PLAIN


def gen_cut_scene_text(rng, fr, language):
    """Bottom captions over cuts into and out of text-rich shots (letter blocks, station signs,
    shop signs), captions crossing the cuts."""
    style = dialogue_style(rng, fr)
    events = plain_clip(rng, fr, language, [style], dur=(1.5, 3.5))
    cuts = cuts_every(rng, fr, (1.0, 2.5))
    pool = TEXTY + ["dog_brightfloor_720p.mp4", "snow_rally.mp4"]
    return [style], events, cuts, pool


GENERATORS = {"cut_mid": gen_cut_mid, "cut_sync": gen_cut_sync, "fast_cuts": gen_fast_cuts,
              "cut_scene_text": gen_cut_scene_text}


def main(argv: list[str] | None = None) -> int:
    seed, dest = draw_args(argv, __doc__, SEED, "cuts", HERE)
    manifest = []
    for name, cls, (w, h), duration, language, font in CLIPS:
        rng = random.Random(f"{seed}:{name}")
        fr = Frame(w, h, FPS, duration, [font])
        styles, events, cuts, pool = GENERATORS[cls](rng, fr, language)
        pieces = pieces_for(cuts, frame_of(duration), rng, pool)
        assert cut_frames(pieces) == cuts
        check_fonts(styles)
        events.sort(key=lambda e: (e.start, e.style))
        text = build_script(events, styles, w, h, title=name,
                            comments=[f"cuts benchmark clip {name} ({cls}); generated by make_scripts.py, seed {seed}",
                                      f"montage of {len(pieces)} footage pieces (evaluation halves), {duration:g} s"])
        write_if_changed(dest / "scripts" / f"{name}.ass", text)
        manifest.append({"name": name, "class": cls, "footage": pieces[0].footage, "part": "eval",
                         "duration": duration, "width": w, "height": h, "fps": str(FPS), "size": [w, h],
                         "language": language, "fonts": [font], "script": f"scripts/{name}.ass",
                         "captions": len(events), "cuts": cuts,
                         "montage": [{"footage": p.footage, "offset": p.offset, "frames": p.frames} for p in pieces]})
        print(f"{name:22s} {cls:15s} {w}x{h} {duration:5.1f}s {len(events):3d} captions {len(cuts):3d} cuts")
    write_manifest(dest, seed, manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
