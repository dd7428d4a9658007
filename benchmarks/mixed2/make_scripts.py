#!/usr/bin/env python3
"""Generate the mixed2 benchmark: a second, held-out draw of the real world's hard cases.

    .venv/bin/python benchmarks/mixed2/make_scripts.py [--seed N --dest DIR]

``mixed`` found three causes of misses and the fixes were checked on it; this suite was drawn
after them, from combinations no suite had: a platform watermark (logo and user name) that
jumps between corners, one of them at the caption's height; translucent and opaque caption
boxes in Hebrew, Ukrainian and Turkish; two-line stacks that move; captions at the top and
the bottom changing independently (a translation and the dialogue); small film subtitles in a
platform's low-quality re-upload; white text moving over bright shots. Eighteen languages,
sentences written for it (``texts.py``: in no other suite and no training data), Traditional
Chinese among them. The product runs as a user runs it: no ``--lang``.

Writes ``scripts/<clip>.ass`` and ``clips.json`` next to this file, once, from a fixed seed;
both are committed and are the benchmark.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent / "realworld"))

from make_scripts import (  # noqa: E402
    WHITE, YELLOW, Frame, Texts, ass_size, clear_spans, dialogue_style, draw_args, load_module, timeline,
)
from synth.ass import Event, Style, colour  # noqa: E402

draw = load_module("mixed_draw", HERE.parent / "mixed" / "draw.py")  # written as mixed is
cuts = draw.cuts
pool = load_module("mixed2_texts", HERE / "texts.py").pool

SEED = 20261211
FPS = cuts.FPS
LANDSCAPE, VERTICAL = cuts.LANDSCAPE, cuts.VERTICAL
DARK_TEXT = colour(18, 18, 18)

# (name, class, size or single-shot footage, seconds, language, font, extra manifest fields)
CLIPS = [
    ("zh_watermark_vertical", "watermark_cuts", VERTICAL, 20.0, "zh", "Noto Sans CJK SC", {}),
    ("ko_watermark_vertical", "watermark_cuts", VERTICAL, 20.0, "ko", "Noto Sans CJK KR", {}),
    ("es_watermark", "watermark_cuts", LANDSCAPE, 20.0, "es", "DejaVu Sans", {}),
    ("he_boxed", "boxed_scripts", LANDSCAPE, 20.0, "he", "Noto Sans Hebrew", {}),
    ("uk_boxed_light_vertical", "boxed_scripts", VERTICAL, 20.0, "uk", "Noto Sans", {}),
    ("tr_boxed_snow", "boxed_scripts", "snow_rally.mp4", 18.0, "tr", "Noto Sans", {}),
    ("zh_tw_moving_vertical", "moving_stacks", VERTICAL, 20.0, "zh_tw", "Noto Sans CJK TC", {}),
    ("fr_moving", "moving_stacks", LANDSCAPE, 20.0, "fr", "Noto Sans", {}),
    ("ru_moving_vertical", "moving_stacks", VERTICAL, 20.0, "ru", "Noto Sans", {}),
    ("zh_en_dual", "dual_regions", LANDSCAPE, 20.0, "zh", "Noto Sans CJK SC", {}),
    ("pt_en_dual", "dual_regions", LANDSCAPE, 20.0, "pt", "Noto Sans", {}),
    ("ja_small_reupload", "small_reupload", LANDSCAPE, 20.0, "ja", "Noto Sans CJK JP",
     {"reupload": {"size": [960, 540], "crf": 28}}),
    ("de_small_reupload", "small_reupload", LANDSCAPE, 20.0, "de", "DejaVu Sans",
     {"reupload": {"size": [854, 480], "crf": 30}}),
    ("ar_small_reupload", "small_reupload", LANDSCAPE, 20.0, "ar", "Noto Sans Arabic",
     {"reupload": {"size": [960, 540], "crf": 26}}),
    ("vi_bright_moving", "bright_moving", "cups_whitetable_720p.mp4", 18.0, "vi", "Noto Sans", {}),
    ("el_bright_moving", "bright_moving", "dog_brightfloor_720p.mp4", 18.0, "el", "Noto Sans", {}),
]

# A platform's watermark: its name over the uploader's handle, white at 35-55 % opacity.
WATERMARKS = ["抖音\\N抖音号: xiaolu_88", "TikTok\\N@mina.cooks", "Kuaishou\\N@dawei_travel",
              "TikTok\\N@el.rincon.de.ana", "YouTube Shorts\\N@seoul_daily"]


def _max_w(fr: Frame, style) -> int:
    return fr.width - 2 * style.margin_l


def _bottom(rng, fr, style, lang, *, stacks: int | None = None, dur=(1.3, 3.0), gap=(0.25, 0.9), max_w=None,
            two_lines: bool = False):
    """Bottom captions ``dur`` long, ``gap`` apart; with ``stacks``, every third (from that
    index) a two-line stack. ``two_lines``: never more than two (a text already broken in two
    on a narrow vertical frame gets no second text); mixed2's own draw has no such limit."""
    texts = Texts(rng, pool(lang))
    width = max_w or _max_w(fr, style)
    events = []
    for i, (t0, t1) in enumerate(timeline(rng, fr, dur=dur, gap=gap)):
        text = texts.take(style, width)
        if stacks is not None and i % 3 == stacks and not (two_lines and "\\N" in text):
            text += "\\N" + texts.take(style, width)
        events.append(fr.event(t0, t1, text))
    return events


def gen_watermark_cuts(rng, fr, lang):
    """Captions at the bottom over cuts every 0.6-2.5 s, and a platform watermark (scene text,
    not a caption) that jumps every 3-6 s between the corners: top left, the middle of the right
    edge, and bottom left or right just above the caption line, as short-video apps move theirs."""
    style = dialogue_style(rng, fr, scale=1.05, bold=rng.random() < 0.5)
    mark = Style("Scene", "Noto Sans CJK SC", ass_size("Noto Sans CJK SC", fr.height * rng.uniform(0.022, 0.03)),
                 primary=colour(255, 255, 255, rng.choice([0x70, 0x90, 0xA8])),
                 outline_colour=colour(0, 0, 0, 0xC0), outline=1, shadow=0, alignment=7)
    events = _bottom(rng, fr, style, lang)
    text = rng.choice(WATERMARKS)
    m = round(fr.width * 0.04)
    low = fr.height - style.margin_v - round(style.size * 1.25)  # just above a caption line, not on it
    places = [(7, (m, round(fr.height * 0.06))), (6, (fr.width - m, round(fr.height * 0.45))),
              (1, (m, low)), (3, (fr.width - m, low))]
    t, last = 0.0, None
    while t < fr.duration:
        end = min(fr.duration + 0.5, t + rng.uniform(3.0, 6.0))
        place = rng.choice([p for p in places if p != last])
        last = place
        events.append(Event(fr.snap(t), fr.snap(end), text, "Scene", an=place[0], pos=place[1]))
        t = end
    return [style, mark], events, cuts.cuts_every(rng, fr, (0.6, 2.5))


def gen_boxed_scripts(rng, fr, lang):
    """Captions on a box: translucent dark (BorderStyle 3) over cuts, or dark text on an opaque
    white box at mid height (short-video style) on vertical video; every third a two-line stack."""
    if fr.vertical:
        style = dialogue_style(rng, fr, primary=DARK_TEXT, border_style=3, shadow=0, bold=True,
                               outline_colour=colour(255, 255, 255), margin_v=round(fr.height * rng.uniform(0.2, 0.32)))
        style = replace(style, outline=round(style.size * rng.uniform(0.15, 0.25)))
    else:
        style = dialogue_style(rng, fr, primary=rng.choice([WHITE, WHITE, YELLOW]), border_style=3, shadow=0,
                               outline_colour=colour(0, 0, 0, rng.choice([0x30, 0x60, 0x90])))
        style = replace(style, outline=round(style.size * rng.uniform(0.12, 0.2)))
    events = _bottom(rng, fr, style, lang, stacks=1, max_w=_max_w(fr, style) - 2 * style.outline)
    return [style], events, cuts.cuts_every(rng, fr, (0.7, 2.5))  # (a single shot's clip ignores cuts)


def gen_moving_stacks(rng, fr, lang):
    """Bold two-line stacks (and single lines) that move between the upper third, the middle and
    the lower third, over a cut every 0.4-1.5 s."""
    style = dialogue_style(rng, fr, scale=1.0, bold=True, primary=rng.choice([WHITE, YELLOW]))
    style = replace(style, outline=style.outline + 1)
    texts = Texts(rng, pool(lang))
    events = []
    for i, (t0, t1) in enumerate(timeline(rng, fr, dur=(1.4, 3.0), gap=(0.2, 0.8))):
        text = texts.take(style, _max_w(fr, style))
        if i % 2 == 0 and "\\N" not in text:
            text += "\\N" + texts.take(style, _max_w(fr, style))
        y = round(fr.height * rng.choice([0.28, 0.45, 0.6, 0.72, 0.82]))
        events.append(fr.event(t0, t1, text, an=5, pos=(fr.width // 2, y)))
    return [style], events, cuts.cuts_every(rng, fr, (0.4, 1.5))


def gen_dual_regions(rng, fr, lang):
    """Dialogue at the bottom and an English line at the top (a translation or a commentary),
    each changing on its own every 1.5-3.5 s, over cuts every 0.8-2.5 s: two caption regions
    that both change. Top boundaries stay 0.5 s from bottom ones and no top cue overlaps a
    bottom one with IoU 0.4 or more, so matching by time stays unambiguous."""
    bottom = dialogue_style(rng, fr)
    top = dialogue_style(rng, fr, name="Top", scale=0.85, primary=rng.choice([WHITE, YELLOW]), alignment=8,
                         margin_v=round(fr.height * rng.uniform(0.05, 0.08)))
    texts = Texts(rng, pool(lang))
    cues = timeline(rng, fr, dur=(1.5, 3.2), gap=(0.3, 0.9))
    events = [fr.event(t0, t1, texts.take(bottom, _max_w(fr, bottom))) for t0, t1 in cues]
    english = Texts(rng, pool("en"))
    for s, e in clear_spans(rng, fr, events, cues, first=(0.3, 1.0), lead=(0.0, 0.6), dur=(1.5, 3.5),
                            gap=(0.3, 1.0), room=2.0, tail=0.3, tries=300):
        events.append(fr.event(s, e, english.take(top, _max_w(fr, top)), "Top"))
    return [bottom, top], events, cuts.cuts_every(rng, fr, (0.8, 2.5))


def gen_small_reupload(rng, fr, lang):
    """Film subtitles (a glyph 3.0-3.6 % of the height, thin outline) over cuts every 1-3 s; the
    clip is then re-uploaded at 480p or 540p with a low quality (the manifest's ``reupload``)."""
    style = dialogue_style(rng, fr, scale=rng.uniform(0.62, 0.72))
    style = replace(style, outline=rng.choice([1.0, 1.5]), margin_v=round(fr.height * rng.uniform(0.03, 0.05)))
    return [style], _bottom(rng, fr, style, lang, stacks=1, dur=(1.5, 3.5)), cuts.cuts_every(rng, fr, (1.0, 3.0))


def gen_bright_moving(rng, fr, lang):
    """White text with no or a thin outline over a bright single shot, moving between the lower
    third, the middle and the bottom."""
    thin = rng.random() < 0.5
    style = dialogue_style(rng, fr, primary=WHITE, outline=1 if thin else 0, shadow=0, bold=True)
    texts = Texts(rng, pool(lang))
    events = []
    for t0, t1 in timeline(rng, fr, dur=(1.3, 3.0), gap=(0.3, 0.9)):
        y = round(fr.height * rng.choice([0.5, 0.65, 0.8, 0.9]))
        events.append(fr.event(t0, t1, texts.take(style, _max_w(fr, style)), an=5, pos=(fr.width // 2, y)))
    return [style], events, None


GENERATORS = {"watermark_cuts": gen_watermark_cuts, "boxed_scripts": gen_boxed_scripts,
              "moving_stacks": gen_moving_stacks, "dual_regions": gen_dual_regions,
              "small_reupload": gen_small_reupload, "bright_moving": gen_bright_moving}


def main(argv: list[str] | None = None) -> int:
    seed, dest = draw_args(argv, __doc__, SEED, "mixed2", HERE)
    draw.write_clips(CLIPS, GENERATORS, seed, dest, "mixed2", two_fonts="dual_regions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
