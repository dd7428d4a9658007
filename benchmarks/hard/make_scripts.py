#!/usr/bin/env python3
"""Generate the hard benchmark's ASS scripts and manifest, once, from a fixed seed.

    .venv/bin/python benchmarks/hard/make_scripts.py

Caption styles real videos use and the realworld suite never shows: captions on boxes (dark, and
the short-video platforms' dark text on a white box), dark text with a light outline, re-uploads
(downscaled and re-encoded at a low quality), letterboxed films with captions in the bar, small
film subtitles, italic coloured text, and bilingual stacks with a smaller second line. The same
helpers, texts and footage halves as ``benchmarks/realworld/make_scripts.py``; its output is
committed (the scripts are the benchmark), so rerun this only to change the benchmark on purpose.
"""

from __future__ import annotations

import random
import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent / "realworld"))

from make_scripts import (  # noqa: E402
    Frame, dialogue_style, draw_args, fits, plain_clip, text_width, timeline, zh_or_en, texts_for,
    write_if_changed, write_manifest,
)
from synth.ass import BLACK, WHITE, YELLOW, build_script, check_fonts, colour, footage_segment  # noqa: E402

SEED = 20261202

# Bilingual captions: a Chinese line over its English translation, set smaller (fan-sub style).
ZH_EN = [
    ("我们先去车站买明天的票吧", "Let's buy tomorrow's tickets at the station first"),
    ("这家面馆开了快三十年了", "This noodle shop has been open for almost thirty years"),
    ("你把钥匙放在门口的抽屉里", "Put the keys in the drawer by the door"),
    ("他说今晚八点在老地方见面", "He said to meet at the usual place at eight tonight"),
    ("我还以为你已经回北京了", "I thought you had already gone back to Beijing"),
    ("别担心，我们一定能赶上末班车", "Don't worry, we'll make the last bus"),
    ("妈妈让我给你带了一点饺子", "Mum asked me to bring you some dumplings"),
    ("前面那个路口往左拐就到了", "Turn left at the next crossing and you're there"),
    ("天气预报说周末会降温", "The forecast says it will get colder this weekend"),
    ("请大家排好队，按顺序上车", "Please queue up and board in order"),
    ("这个问题我们明天再讨论吧", "Let's talk about this tomorrow"),
    ("你能帮我把行李搬上楼吗", "Could you help me carry the luggage upstairs?"),
    ("今年的冬天比往年来得早", "Winter came earlier this year than usual"),
    ("对不起，我真的不是故意的", "I'm sorry, I really didn't mean it"),
    ("我们走错方向了，得掉头回去", "We went the wrong way, we have to turn back"),
    ("火车晚点了将近四十分钟", "The train is almost forty minutes late"),
    ("这件事你最好先别告诉他", "You'd better not tell him about this yet"),
    ("孩子们在院子里玩得很开心", "The kids are having fun in the yard"),
]

DARK_TEXT = colour(18, 18, 18)
NAVY = colour(20, 30, 90)
ITALIC_COLOURS = [colour(90, 220, 255), colour(255, 150, 40), colour(255, 120, 190), colour(140, 235, 110)]

# ---------------------------------------------------------------------------------------------
# Clips: (name, class, footage, seconds, language, font, extra manifest fields)

LETTERBOX_720 = {"size": [1280, 720], "content": [1280, 536]}  # 2.39:1 inside 16:9
CLIPS = [
    ("boxed_dark_dog", "boxed_dark", "dog_brightfloor_720p.mp4", 18.0, "zh", "Noto Sans CJK SC", {}),
    ("boxed_dark_snow", "boxed_dark", "snow_rally.mp4", 18.0, "en", "DejaVu Sans", {}),
    ("boxed_light_station", "boxed_light", "station_signage.mp4", 18.0, "zh+en", "WenQuanYi Micro Hei", {}),
    ("boxed_light_japan_vertical", "boxed_light", "japan_night_signs_vertical.mp4", 18.0, "zh",
     "Noto Sans CJK SC", {}),
    ("dark_text_cups", "dark_text", "cups_whitetable_720p.mp4", 18.0, "zh", "Noto Sans CJK SC", {}),
    ("dark_text_blocks", "dark_text", "blocks_letters_720p.mp4", 18.0, "en", "DejaVu Sans", {}),
    ("reupload_dog", "reupload", "dog_brightfloor_720p.mp4", 18.0, "zh", "WenQuanYi Micro Hei",
     {"reupload": {"size": [640, 360], "crf": 36}}),
    ("reupload_snow", "reupload", "snow_rally.mp4", 18.0, "en", "DejaVu Sans",
     {"reupload": {"size": [640, 360], "crf": 34}}),
    ("reupload_japan_vertical", "reupload", "japan_night_signs_vertical.mp4", 18.0, "zh", "Noto Sans CJK SC",
     {"reupload": {"size": [270, 480], "crf": 33}}),
    ("letterbox_snow", "letterbox", "snow_rally.mp4", 18.0, "zh", "Noto Sans CJK SC", LETTERBOX_720),
    ("letterbox_cups", "letterbox", "cups_whitetable_720p.mp4", 18.0, "en", "DejaVu Sans", LETTERBOX_720),
    ("small_text_blocks", "small_text", "blocks_letters_720p.mp4", 18.0, "en", "DejaVu Sans", {}),
    ("small_text_dog", "small_text", "dog_brightfloor_720p.mp4", 18.0, "zh", "Noto Serif CJK SC", {}),
    ("italic_colour_snow", "italic_colour", "snow_rally.mp4", 18.0, "en", "DejaVu Sans", {}),
    ("italic_colour_cups", "italic_colour", "cups_whitetable_720p.mp4", 18.0, "zh+en", "Noto Sans CJK SC", {}),
    ("bilingual_sizes_station", "bilingual_sizes", "station_signage.mp4", 18.0, "zh+en", "Noto Sans CJK SC", {}),
    ("bilingual_sizes_dog", "bilingual_sizes", "dog_brightfloor_720p.mp4", 18.0, "zh+en", "WenQuanYi Micro Hei", {}),
]


# ---------------------------------------------------------------------------------------------
# One generator per class: (rng, frame, language) -> (styles, events)


def gen_boxed_dark(rng, fr, language):
    """White or yellow text on a translucent dark box (BorderStyle 3: the outline is the box)."""
    style = dialogue_style(rng, fr, primary=rng.choice([WHITE, WHITE, YELLOW]), border_style=3, shadow=0,
                           outline_colour=colour(0, 0, 0, rng.choice([0x30, 0x60, 0x90])))
    style = replace(style, outline=round(style.size * rng.uniform(0.12, 0.2)))
    return [style], plain_clip(rng, fr, language, [style])


def gen_boxed_light(rng, fr, language):
    """Dark text on an opaque white box: the short-video platforms' caption style."""
    style = dialogue_style(rng, fr, primary=DARK_TEXT, border_style=3, shadow=0, bold=rng.random() < 0.5,
                           outline_colour=colour(255, 255, 255),
                           margin_v=round(fr.height * rng.uniform(0.12, 0.3)))
    style = replace(style, outline=round(style.size * rng.uniform(0.15, 0.25)))
    return [style], plain_clip(rng, fr, language, [style])


def gen_dark_text(rng, fr, language):
    """Black or navy text with a white outline (memes, variety shows)."""
    style = dialogue_style(rng, fr, primary=rng.choice([DARK_TEXT, NAVY]), outline_colour=WHITE, bold=True)
    style = replace(style, outline=style.outline + 0.5)
    return [style], plain_clip(rng, fr, language, [style])


def gen_plain(rng, fr, language):
    """Ordinary bottom captions (the class varies the video, not the captions)."""
    style = dialogue_style(rng, fr)
    return [style], plain_clip(rng, fr, language, [style])


def gen_letterbox(rng, fr, language, content_h: int):
    """Captions in the bottom black bar of a letterboxed film, some reaching into the picture."""
    bar = (fr.height - content_h) // 2
    style = dialogue_style(rng, fr, margin_v=round(bar * rng.uniform(0.2, 0.35)), shadow=0)
    pools = texts_for(rng, language)
    max_w = fr.width - 2 * style.margin_l
    events = []
    for t0, t1 in timeline(rng, fr):
        # One cue in three sits higher, across the picture's lower edge.
        y = fr.height - bar - round(style.size * 0.2) if rng.random() < 0.33 else None
        text = pools[zh_or_en(rng, language)].take(style, max_w)
        events.append(fr.event(t0, t1, text, an=2 if y else None, pos=(fr.width // 2, y) if y else None))
    return [style], events


def gen_small_text(rng, fr, language):
    """Film subtitles: a glyph 3.0-3.6 % of the height with a thin outline."""
    style = dialogue_style(rng, fr, scale=rng.uniform(0.6, 0.7))
    style = replace(style, outline=rng.choice([1.0, 1.5]), margin_v=round(fr.height * rng.uniform(0.03, 0.05)))
    return [style], plain_clip(rng, fr, language, [style])


def gen_italic_colour(rng, fr, language):
    """Italic text in a bright colour with a dark outline."""
    style = dialogue_style(rng, fr, italic=True, primary=rng.choice(ITALIC_COLOURS),
                           outline_colour=rng.choice([BLACK, colour(40, 20, 60)]))
    return [style], plain_clip(rng, fr, language, [style])


def gen_bilingual_sizes(rng, fr, language):
    """A Chinese line over its English translation set 55-70 % as large, in one cue."""
    style = dialogue_style(rng, fr)
    small = round(style.size * rng.uniform(0.55, 0.7))
    max_w = fr.width - 2 * style.margin_l
    pairs = [p for p in ZH_EN if fits(p[0], style, max_w)
             and text_width(p[1], style.font, small) + 2 * style.outline + 2 <= max_w]
    rng.shuffle(pairs)
    events = []
    for t0, t1 in timeline(rng, fr, dur=(1.8, 4.0)):
        zh, en = pairs.pop()
        events.append(fr.event(t0, t1, f"{zh}\\N{{\\fs{small}}}{en}"))
    return [style], events


GENERATORS = {
    "boxed_dark": gen_boxed_dark, "boxed_light": gen_boxed_light, "dark_text": gen_dark_text,
    "reupload": gen_plain, "small_text": gen_small_text, "italic_colour": gen_italic_colour,
    "bilingual_sizes": gen_bilingual_sizes,
}


def main(argv: list[str] | None = None) -> int:
    seed, dest = draw_args(argv, __doc__, SEED, "hard", HERE)
    scripts = dest / "scripts"
    manifest = []
    for name, cls, footage, duration, language, fonts, extra in CLIPS:
        rng = random.Random(f"{seed}:{name}")
        f = footage_segment(footage, "eval").footage
        width, height = extra.get("size", (f.width, f.height))
        fr = Frame(width, height, f.fps, duration, fonts.split("/"))
        if cls == "letterbox":
            styles, events = gen_letterbox(rng, fr, language, extra["content"][1])
        else:
            styles, events = GENERATORS[cls](rng, fr, language)
        check_fonts(styles)
        events.sort(key=lambda e: (e.start, e.style))
        text = build_script(events, styles, width, height, title=name,
                            comments=[f"hard benchmark clip {name} ({cls}); generated by make_scripts.py, "
                                      f"seed {seed}", f"footage {footage}, evaluation half, {duration:g} s"])
        write_if_changed(scripts / f"{name}.ass", text)
        manifest.append({"name": name, "class": cls, "footage": footage, "part": "eval",
                         "duration": duration, "width": width, "height": height, "fps": str(f.fps),
                         "language": language, "fonts": fonts.split("/"), "script": f"scripts/{name}.ass",
                         "captions": len(events), **extra})
        print(f"{name:30s} {cls:16s} {width}x{height} {str(f.fps):>10s} {duration:5.1f}s "
              f"{len(events):3d} captions {extra or ''}")
    write_manifest(dest, seed, manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
