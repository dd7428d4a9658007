"""Generate the styles benchmark: caption styles real videos use that no other suite draws.

Every earlier suite draws captions with a hard outline (or a box): libass's default look. Real
burned-in captions are often drawn otherwise, and these classes draw what the others never do:

- ``soft_edges``: fansub style, the outline (and text) softened with ``\\blur`` 2-4 px.
- ``shadow_only``: no outline, only a drop shadow (2-4 px, dark, often translucent), as many
  editors and films draw them; over bright shots too.
- ``karaoke``: short-video auto-captions that colour each word as it is said (``\\k``): one
  caption whose look changes every 0.2-0.6 s, at mid height of a vertical video.
- ``italic_letterbox``: a film letterboxed to 2.39:1 inside 16:9, italic one- and two-line
  subtitles sitting in the black bar and over the picture's edge.
- ``variety``: variety-show captions: big bold coloured text (yellow, cyan, pink, green) with a
  thick dark or white outline, a line in two colours, tilted up to 3 degrees, anywhere in the
  frame, over cuts.

Sentences from ``../mixed2/texts.py`` (benchmark-only). Writes ``scripts/<clip>.ass`` and
``clips.json`` next to this file, once, from a fixed seed; both are committed and are the
benchmark. It was generated and run once before any change it led to (held out).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent / "realworld"))

from make_scripts import (  # noqa: E402
    WHITE, YELLOW, Texts, dialogue_style, draw_args, load_module, timeline,
)
from synth.ass import colour  # noqa: E402

draw = load_module("mixed_draw", HERE.parent / "mixed" / "draw.py")
cuts = draw.cuts
mixed2 = load_module("mixed2_make_scripts", HERE.parent / "mixed2" / "make_scripts.py")
pool = mixed2.pool

SEED = 20261214
LANDSCAPE, VERTICAL = cuts.LANDSCAPE, cuts.VERTICAL
_max_w = mixed2._max_w
FILM = (1280, 536)  # 2.39:1 picture inside the 1280x720 frame

CYAN, PINK, GREEN = colour(60, 230, 255), colour(255, 120, 200), colour(120, 255, 110)
BLACK, DARK_BLUE = colour(0, 0, 0), colour(20, 30, 90)

# (name, class, size or single-shot footage, seconds, language, font, extra manifest fields)
CLIPS = [
    ("en_soft", "soft_edges", LANDSCAPE, 20.0, "en", "Noto Sans", {}),
    ("zh_soft", "soft_edges", LANDSCAPE, 20.0, "zh", "Noto Sans CJK SC", {}),
    ("ru_soft_vertical", "soft_edges", VERTICAL, 20.0, "ru", "Noto Sans", {}),
    ("es_shadow", "shadow_only", LANDSCAPE, 20.0, "es", "DejaVu Sans", {}),
    ("ja_shadow_vertical", "shadow_only", VERTICAL, 20.0, "ja", "Noto Sans CJK JP", {}),
    ("de_shadow_bright", "shadow_only", "dog_brightfloor_720p.mp4", 18.0, "de", "Noto Sans", {}),
    ("en_karaoke_vertical", "karaoke", VERTICAL, 20.0, "en", "Noto Sans", {}),
    ("pt_karaoke_vertical", "karaoke", VERTICAL, 20.0, "pt", "Noto Sans", {}),
    ("zh_karaoke_vertical", "karaoke", VERTICAL, 20.0, "zh", "Noto Sans CJK SC", {}),
    ("fr_italic_film", "italic_letterbox", "snow_rally.mp4", 18.0, "fr", "DejaVu Serif",
     {"size": [972, 540], "content": [972, 406]}),
    ("en_italic_film", "italic_letterbox", "cups_whitetable_720p.mp4", 18.0, "en", "Noto Sans",
     {"size": [1280, 720], "content": list(FILM)}),
    ("zh_variety", "variety", LANDSCAPE, 20.0, "zh", "Noto Sans CJK SC", {}),
    ("ko_variety", "variety", LANDSCAPE, 20.0, "ko", "Noto Sans CJK KR", {}),
    ("ja_variety_vertical", "variety", VERTICAL, 20.0, "ja", "Noto Sans CJK JP", {}),
]


def gen_soft_edges(rng, fr, lang):
    """White or yellow text, outline 2-3 px, everything blurred 2-4 px, at the bottom over cuts
    every 0.8-2.5 s; every third a two-line stack."""
    style = dialogue_style(rng, fr, primary=rng.choice([WHITE, WHITE, YELLOW]), shadow=0)
    style = replace(style, outline=max(style.outline, rng.choice([2.0, 2.5, 3.0])))
    lines = mixed2._bottom(rng, fr, style, lang, stacks=1, max_w=_max_w(fr, style) - 8, two_lines=True)
    events = [replace(e, text=f"{{\\blur{rng.choice([2, 3, 4])}}}{e.text}") for e in lines]
    return [style], events, cuts.cuts_every(rng, fr, (0.8, 2.5))


def gen_shadow_only(rng, fr, lang):
    """No outline: a drop shadow 2-4 px (black, opaque to half transparent, sometimes softened)
    under white text, at the bottom; over cuts (a single shot's clip ignores them)."""
    alpha = rng.choice([0x00, 0x30, 0x60])
    style = dialogue_style(rng, fr, outline=0, shadow=rng.choice([2, 3, 4]), bold=rng.random() < 0.5,
                           back_colour=colour(0, 0, 0, alpha))
    soft = rng.random() < 0.5
    events = [replace(e, text=("{\\blur1}" if soft else "") + e.text)
              for e in mixed2._bottom(rng, fr, style, lang, stacks=2, two_lines=True)]
    return [style], events, cuts.cuts_every(rng, fr, (1.0, 3.0))


def _karaoke(rng, text: str, seconds: float) -> str:
    """``text`` in \\k syllables over 85 % of ``seconds``: words (a word's space after it), or
    two characters at a time in a line without spaces (CJK)."""
    lines = text.split("\\N")
    parts = [line.split(" ") if " " in line else [line[i:i + 2] for i in range(0, len(line), 2)]
             for line in lines]
    weights = [rng.uniform(0.7, 1.3) for ps in parts for _ in ps]
    cs = iter(max(5, round(seconds * 85 * w / sum(weights))) for w in weights)
    return "\\N".join((" " if " " in line else "").join(f"{{\\k{next(cs)}}}{p}" for p in ps)
                       for line, ps in zip(lines, parts))


def _inline(c: str) -> str:
    """A style colour (&HAABBGGRR) as an override tag's (&HBBGGRR&)."""
    return "&H" + c[-6:] + "&"


def gen_karaoke(rng, fr, lang):
    """Auto-caption style on vertical video: bold white text with a thick outline whose words
    turn yellow or green one by one as they are said (``\\k``), one caption at mid height
    (60-75 % down), every other one a two-line stack, over cuts every 0.8-2.5 s."""
    fill = rng.choice([YELLOW, GREEN])
    style = dialogue_style(rng, fr, scale=1.1, bold=True, primary=fill, shadow=rng.choice([0, 1]))
    style = replace(style, outline=style.outline + 1)
    y = round(fr.height * rng.uniform(0.6, 0.75))
    events = []
    texts = Texts(rng, pool(lang))
    for i, (t0, t1) in enumerate(timeline(rng, fr, dur=(1.5, 3.2), gap=(0.2, 0.7))):
        text = texts.take(style, _max_w(fr, style))
        if i % 2 == 1 and "\\N" not in text:
            text += "\\N" + texts.take(style, _max_w(fr, style))
        body = "{\\2c&HFFFFFF&}" + _karaoke(rng, text, t1 - t0)
        events.append(fr.event(t0, t1, body, an=5, pos=(fr.width // 2, y)))
    return [style], events, cuts.cuts_every(rng, fr, (0.8, 2.5))


def gen_italic_letterbox(rng, fr, lang):
    """A 2.39:1 film letterboxed in the frame; italic white subtitles with a thin outline, their
    baseline in the black bar or just above the picture's lower edge; every third two lines."""
    bar = (fr.height - round(fr.height * 0.744)) // 2
    style = dialogue_style(rng, fr, scale=rng.uniform(0.75, 0.85), italic=True, shadow=0)
    style = replace(style, outline=rng.choice([1.0, 1.5]),
                    margin_v=round(bar * rng.choice([0.25, 0.55, 1.15])))
    events = mixed2._bottom(rng, fr, style, lang, stacks=0, dur=(1.5, 3.5), two_lines=True)
    return [style], events, None


def _two_colours(text: str, second: str) -> str:
    """The line's second half (from its middle space, or middle character) in ``second``."""
    if "\\N" in text:
        return text
    if " " in text:
        spaces = [i for i, c in enumerate(text) if c == " "]
        i = min(spaces, key=lambda i: abs(i - len(text) / 2))
    else:
        i = len(text) // 2
    return text[:i] + f"{{\\c{second}}}" + text[i:]


def gen_variety(rng, fr, lang):
    """Variety-show captions: bold text 1.2-1.5 times the usual size in yellow, cyan, pink,
    green or white, a thick (4-6 px) dark or white outline, one in three with its second half in
    another colour, tilted up to 3 degrees, at the top, the middle or the bottom, over cuts every
    0.6-2.0 s."""
    fills = [YELLOW, CYAN, PINK, GREEN, WHITE]
    style = dialogue_style(rng, fr, scale=rng.uniform(1.2, 1.5), bold=True, shadow=0,
                           outline_colour=rng.choice([BLACK, DARK_BLUE]))
    style = replace(style, outline=rng.choice([4.0, 5.0, 6.0]))
    texts = Texts(rng, pool(lang))
    events = []
    for i, (t0, t1) in enumerate(timeline(rng, fr, dur=(1.2, 2.8), gap=(0.25, 0.8))):
        text = texts.take(style, _max_w(fr, style) - 40)
        fill, other = rng.sample(fills, 2)
        body = f"{{\\c{_inline(fill)}\\frz{rng.uniform(-3, 3):.1f}}}"
        body += _two_colours(text, _inline(other)) if i % 3 == 2 else text
        y = round(fr.height * rng.choice([0.15, 0.5, 0.8, 0.88]))
        events.append(fr.event(t0, t1, body, an=5, pos=(fr.width // 2, y)))
    return [style], events, cuts.cuts_every(rng, fr, (0.6, 2.0))


GENERATORS = {"soft_edges": gen_soft_edges, "shadow_only": gen_shadow_only, "karaoke": gen_karaoke,
              "italic_letterbox": gen_italic_letterbox, "variety": gen_variety}


def main(argv: list[str] | None = None) -> int:
    seed, dest = draw_args(argv, __doc__, SEED, "styles", HERE)
    draw.write_clips(CLIPS, GENERATORS, seed, dest, "styles", two_fonts="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
