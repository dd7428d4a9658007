#!/usr/bin/env python3
"""Generate the mixed benchmark: the real world's hard cases together, in eleven languages.

    .venv/bin/python benchmarks/mixed/make_scripts.py [--seed N --dest DIR]

Each other suite varies one thing over captions in Chinese or English (layouts, cuts) or puts
other scripts at the bottom of one shot (languages). Real videos combine them: Korean captions
over a fast-cut montage, Hindi captions that move between the lower third and the middle, white
Greek text without an outline on a white table, bilingual two-line stacks, a program title at
the top above changing captions. Every clip here draws such a combination; its sentences
(``texts.py``) were written for it and appear in no other suite and no training data. The
product runs as a user runs it: no ``--lang`` (it detects the script).

Writes ``scripts/<clip>.ass`` and ``clips.json`` next to this file, once, from a fixed seed;
both are committed and are the benchmark. Styles, timelines and montages come from the
realworld and cuts generators.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "realworld"))

from make_scripts import (  # noqa: E402
    WHITE, YELLOW, Frame, Texts, clear_spans, dialogue_style, draw_args, fits, load_module, timeline, top_style,
)

draw = load_module("mixed_draw", HERE / "draw.py")
cuts = draw.cuts
pool = load_module("mixed_texts", HERE / "texts.py").pool

SEED = 20261210
FPS = cuts.FPS
LANDSCAPE, VERTICAL = cuts.LANDSCAPE, cuts.VERTICAL

# (name, class, size or single-shot footage, seconds, language, font)
CLIPS = [
    ("ru_cuts", "scripts_cuts", LANDSCAPE, 20.0, "ru", "Noto Sans"),
    ("ko_cuts", "scripts_cuts", LANDSCAPE, 20.0, "ko", "Noto Sans CJK KR"),
    ("ar_cuts", "scripts_cuts", LANDSCAPE, 20.0, "ar", "Noto Sans Arabic"),
    ("th_cuts", "scripts_cuts", LANDSCAPE, 20.0, "th", "Noto Sans Thai"),
    ("ja_moving_vertical", "scripts_moving", VERTICAL, 20.0, "ja", "Noto Sans CJK JP"),
    ("hi_moving", "scripts_moving", LANDSCAPE, 20.0, "hi", "Noto Sans Devanagari"),
    ("vi_moving", "scripts_moving", LANDSCAPE, 20.0, "vi", "Noto Sans"),
    ("el_whitetable", "bright_scripts", "cups_whitetable_720p.mp4", 18.0, "el", "Noto Sans"),
    ("es_snow", "bright_scripts", "snow_rally.mp4", 18.0, "es", "DejaVu Sans"),
    ("ko_brightfloor", "bright_scripts", "dog_brightfloor_720p.mp4", 18.0, "ko", "Noto Sans CJK KR"),
    ("zh_en_stack", "bilingual_cuts", LANDSCAPE, 20.0, "zh+en", "Noto Sans CJK SC"),
    ("ja_en_stack_vertical", "bilingual_cuts", VERTICAL, 20.0, "ja+en", "Noto Sans CJK JP"),
    ("ru_title", "title_and_captions", LANDSCAPE, 20.0, "ru", "Noto Sans"),
    ("ja_title", "title_and_captions", LANDSCAPE, 20.0, "ja", "Noto Sans CJK JP"),
]


def _max_w(fr: Frame, style) -> int:
    return fr.width - 2 * style.margin_l


def _bottom_stacks(rng, fr, style, lang, stack_at: int, gap) -> list:
    """Bottom captions of 1.3-3 s, ``gap`` apart; caption ``i`` with ``i % 3 == stack_at`` a
    two-line stack."""
    texts = Texts(rng, pool(lang))
    events = []
    for i, (t0, t1) in enumerate(timeline(rng, fr, dur=(1.3, 3.0), gap=gap)):
        text = texts.take(style, _max_w(fr, style))
        if i % 3 == stack_at:
            text += "\\N" + texts.take(style, _max_w(fr, style))
        events.append(fr.event(t0, t1, text))
    return events


def gen_scripts_cuts(rng, fr, lang):
    """Bottom captions over a montage cut every 0.6-2.5 s; every third a two-line stack."""
    style = dialogue_style(rng, fr, shadow=rng.choice([0, 1]))
    events = _bottom_stacks(rng, fr, style, lang, 2, gap=(0.25, 0.9))
    return [style], events, cuts.cuts_every(rng, fr, (0.6, 2.5))


def gen_scripts_moving(rng, fr, lang):
    """Short-video style: bold captions that move between the lower third, the middle and the
    upper third, over a cut every 0.3-1.2 s."""
    style = dialogue_style(rng, fr, scale=1.1, bold=True, primary=rng.choice([WHITE, YELLOW]))
    style = replace(style, outline=style.outline + 1)
    texts = Texts(rng, pool(lang))
    events = []
    for t0, t1 in timeline(rng, fr, dur=(1.2, 2.8), gap=(0.2, 0.8)):
        y = round(fr.height * rng.choice([0.3, 0.5, 0.62, 0.75, 0.85]))
        events.append(fr.event(t0, t1, texts.take(style, _max_w(fr, style)), an=5, pos=(fr.width // 2, y)))
    return [style], events, cuts.cuts_every(rng, fr, (0.3, 1.2))


def gen_bright_scripts(rng, fr, lang):
    """White text with no outline (or a thin one, or yellow) over a bright single shot; every
    third caption a two-line stack."""
    kind = rng.choice(["none", "thin", "yellow"])
    extra = {"none": dict(primary=WHITE, outline=0, shadow=0), "thin": dict(primary=WHITE, outline=1, shadow=0),
             "yellow": dict(primary=YELLOW)}[kind]
    style = dialogue_style(rng, fr, **extra)
    return [style], _bottom_stacks(rng, fr, style, lang, 1, gap=(0.3, 0.9)), None


def gen_bilingual_cuts(rng, fr, lang):
    """Bilingual subtitles: every caption a line and its English below, both changing together,
    over a montage cut every 0.5-2 s."""
    style = dialogue_style(rng, fr, scale=0.9)
    first, second = lang.split("+")
    pairs = list(zip(pool(first), pool(second)))
    rng.shuffle(pairs)
    pairs = [p for p in pairs if fits("\\N".join(p), style, _max_w(fr, style))]
    events = []
    for t0, t1 in timeline(rng, fr, dur=(1.5, 3.2), gap=(0.25, 0.8)):
        if not pairs:
            break
        events.append(fr.event(t0, t1, "\\N".join(pairs.pop())))
    return [style], events, cuts.cuts_every(rng, fr, (0.5, 2.0))


def gen_title_and_captions(rng, fr, lang):
    """A program title at the top (English, 4-8 s each) above captions that change below it,
    over a montage cut every 0.8-2.5 s: two caption regions. Every title boundary is at least
    0.5 s from every caption boundary and no title overlaps a caption with IoU 0.4 or more, so
    matching by time stays unambiguous."""
    bottom = dialogue_style(rng, fr)
    top = top_style(rng, fr)
    texts = Texts(rng, pool(lang))
    cues = timeline(rng, fr, dur=(1.3, 3.0), gap=(0.3, 0.9))
    events = [fr.event(t0, t1, texts.take(bottom, _max_w(fr, bottom))) for t0, t1 in cues]
    titles = Texts(rng, pool("titles"))
    for s, e in clear_spans(rng, fr, events, cues, first=(0.3, 1.0), lead=(0.0, 0.8), dur=(4.0, 8.0),
                            gap=(0.3, 1.0), room=4.5, tail=0.3, tries=300):
        events.append(fr.event(s, e, titles.take(top, _max_w(fr, top)), "Top"))
    return [bottom, top], events, cuts.cuts_every(rng, fr, (0.8, 2.5))


GENERATORS = {"scripts_cuts": gen_scripts_cuts, "scripts_moving": gen_scripts_moving,
              "bright_scripts": gen_bright_scripts, "bilingual_cuts": gen_bilingual_cuts,
              "title_and_captions": gen_title_and_captions}


def main(argv: list[str] | None = None) -> int:
    seed, dest = draw_args(argv, __doc__, SEED, "mixed", HERE)
    draw.write_clips(CLIPS, GENERATORS, seed, dest, "mixed", two_fonts="title_and_captions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
