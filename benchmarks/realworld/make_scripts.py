#!/usr/bin/env python3
"""Generate the realworld benchmark's ASS scripts and manifest, once, from a fixed seed.

    .venv/bin/python benchmarks/realworld/make_scripts.py

Writes ``scripts/<clip>.ass`` and ``clips.json`` next to this file. Its output is committed: the
scripts are the benchmark (``build.py`` derives truth from them), so rerun this only to change
the benchmark on purpose, and commit the result with a note. Reads the footage's size and frame
rate (``synth.ass.footage_segment``), and the fonts with fontconfig to keep every line inside
the frame (WrapStyle 2: libass never wraps by itself).
"""

from __future__ import annotations

import functools
import json
import random
import sys
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from PIL import ImageFont

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from synth.ass import (  # noqa: E402
    WHITE, YELLOW, Event, Style, ass_time_for_frame, build_script, check_fonts, colour, font_file,
    footage_segment,
)

SEED = 20261130

# ---------------------------------------------------------------------------------------------
# Texts: written for this benchmark (training renders random characters and words instead).

ZH = """
我们先去车站买明天的票吧
这家面馆开了快三十年了
你把钥匙放在门口的抽屉里
下雪天路滑，开车一定要慢一点
他说今晚八点在老地方见面
这条小狗每天早上都来这里
我还以为你已经回北京了
桌子上的杯子是谁洗干净的
别担心，我们一定能赶上末班车
听说山那边的雪比这里还厚
妈妈让我给你带了一点饺子
前面那个路口往左拐就到了
这次比赛我们准备了整整一年
你看那边的灯是不是亮了
天气预报说周末会降温
我从来没见过这么漂亮的夜景
他已经在门口等了半个多小时
这些积木是孩子们自己搭的
请大家排好队，按顺序上车
我们下午三点在咖啡馆见
车子突然失控冲进了雪堆
这个问题我们明天再讨论吧
你能帮我把行李搬上楼吗
她每天晚上都会给家里打电话
今年的冬天比往年来得早
我记得小时候常来这条街
对不起，我真的不是故意的
这家店的招牌已经换了好几次
我们走错方向了，得掉头回去
只要坚持下去就一定会有结果
你最近工作是不是特别忙
这里的夜市一直开到凌晨两点
比赛马上就要开始了，快坐好
他把所有的照片都存在手机里
外面风太大了，先进屋坐一会儿
我想换一份离家近一点的工作
这只狗好像认识回家的路
今天的晚饭我来做吧
你觉得这个颜色适合我吗
火车晚点了将近四十分钟
我们在终点等你们的好消息
这件事你最好先别告诉他
孩子们在院子里玩得很开心
我的手机快没电了，先挂了
明天一早我们就出发去机场
那辆红色的车跑得最快
你还记得我们第一次见面吗
这座城市晚上比白天还热闹
桌上那几个杯子摆得真整齐
他终于鼓起勇气说出了真相
广播里说下一班车十分钟后到
再坚持一下，马上就到山顶了
我们得在天黑之前赶回营地
这些字母是按顺序排列的
她笑着说这是她最喜欢的地方
没想到这么晚了还有这么多人
你先休息，剩下的交给我
这次旅行让我想明白了很多事
小心地上的冰，别摔倒了
我们一起把这些东西收拾好
前方到站是终点站，请带好随身物品
他每个周末都带狗去公园散步
这道菜的味道跟我奶奶做的一样
请问最近的地铁站怎么走
我把地址发到你手机上了
这场雪大概要下到明天中午
你说的那家书店已经关门了
我们还有足够的时间吃早饭
灯一亮，整条街都热闹起来了
谢谢你一直以来的照顾
""".split()

EN = [s.strip() for s in """
We should leave before the snow gets worse.
Have you seen my blue notebook anywhere?
The last train leaves at eleven.
I think the dog wants to play.
Let's meet at the cafe after work.
Nobody told me the shop was closed.
Keep your eyes on the road.
She has lived in this city for years.
Can you hand me that white cup?
The race starts in five minutes.
I never thought we'd make it this far.
Turn left at the next corner.
He forgot his keys again.
This street looks different at night.
We only have one chance to get this right.
Please stand behind the yellow line.
My brother built this with his kids.
The forecast says it will snow tomorrow.
Don't worry, I'll call you when I land.
It took us three hours to get here.
Everyone is waiting for you downstairs.
I can't believe how bright it is outside.
Let me carry that for you.
The driver lost control on the ice.
We found a tiny noodle shop near the station.
Try not to wake the baby.
That sign says the platform has changed.
I'll explain everything on the way.
Are you sure this is the right address?
The city never really sleeps.
He finally told her the truth.
Put the letters back in order.
Our flight was delayed by two hours.
You look like you haven't slept at all.
I used to come here every summer.
The coffee here is surprisingly good.
Stay close and follow my lead.
We need more time to finish this.
Look at all those lights!
I left the window open again.
This is the best view in town.
She always knows what to say.
Let's take the scenic route home.
The car behind us is catching up.
I think we missed our stop.
Thank you for waiting so long.
Can we talk about this later?
The whole team worked through the night.
That dog runs faster than I do.
I'll have the same as her, please.
We should have booked a bigger table.
Watch out for the ice by the door.
Tickets are sold out for tonight.
Which way is the north exit?
It was quiet until the engines started.
I just want one normal day.
These cups have been here all week.
Call me when you get home safely.
Hold on, I'm almost there.
There's still snow on the mountain.
Nothing about this trip went to plan.
Breakfast is served until ten.
We will be arriving shortly.
Someone left a note on the table.
Give me a minute to think.
""".strip().splitlines()]

# Top-of-frame captions: places and times, speaker labels, sign translations.
ZH_TOP = """
哈尔滨·三天前
【旁白】那年冬天格外漫长
第二天清晨
北站南出口
【小李】我在这边
东京·晚上十点
拉力赛第三赛段
注意：前方急弯
【导游】请跟紧队伍
地铁三号线换乘通道
一周以后
【教练】保持速度
牌子上写着：禁止停车
晚饭后·家里
气温零下十八度
【妈妈】早点回来
站牌：往机场方向
【记者】现场连线
""".split()

EN_TOP = [s.strip() for s in """
Harbin, three days earlier
The next morning
Sign: No parking after 6 pm
Stage three, frozen lake
[Narrator] That winter lasted forever
Tokyo, 10 pm
Platform 4 delayed fifteen minutes
[Coach] Keep your speed up
One week later
Translation: exit on the left
[Mum] Come home early
Minus eighteen degrees
[Reporter] Live from the station
Day two of the rally
""".strip().splitlines()]

ZH_SHORT = "快跑！ 小心！ 什么？ 等等我！ 好的 走吧 真的吗？ 来了！ 不要！ 谢谢 停下！ 快看！".split()
EN_SHORT = ["Go!", "Wait!", "Really?", "Now!", "Stop!", "Run!", "Okay.", "Look out!", "Yes!", "Hey!"]
ZH_REPLY = ["好的，没问题", "我知道了", "马上就来", "那就这么定了", "好，听你的"]
EN_REPLY = ["Okay, got it.", "Sure thing.", "On my way.", "Fine by me.", "Deal."]
# Bilingual two-line captions (Chinese line over its English translation).
ZH_EN = [
    ("下雪天路滑，开车慢一点", "Roads are icy, drive slowly"),
    ("我们先去车站买票吧", "Let's get tickets at the station"),
    ("你还记得我们第一次见面吗", "Do you remember when we first met?"),
    ("火车晚点了将近四十分钟", "The train is forty minutes late"),
    ("谢谢你一直以来的照顾", "Thanks for always looking after me"),
]
URLS = ["www.xuedi-live.com/rally", "weibo.com/chezhan_tv", "v.tvstation.cn/ep12"]

# ---------------------------------------------------------------------------------------------
# Clips: (name, class, footage, seconds, language, font[/font of the top captions])

CLIPS = [
    ("two_regions_dog", "two_regions", "dog_brightfloor_720p.mp4", 20.0, "zh+en", "Noto Sans CJK SC/DejaVu Sans"),
    ("two_regions_station", "two_regions", "station_signage.mp4", 20.0, "en+zh", "DejaVu Sans/WenQuanYi Micro Hei"),
    ("two_regions_snow", "two_regions", "snow_rally.mp4", 18.0, "zh", "Noto Serif CJK SC/Noto Sans CJK SC"),
    ("moving_cups", "moving", "cups_whitetable_720p.mp4", 20.0, "zh", "Noto Sans CJK SC"),
    ("moving_japan_vertical", "moving", "japan_night_signs_vertical.mp4", 18.0, "zh+en", "WenQuanYi Micro Hei"),
    ("midframe_japan_vertical", "midframe", "japan_night_signs_vertical.mp4", 20.0, "zh", "Noto Sans CJK SC"),
    ("midframe_dog", "midframe", "dog_brightfloor_720p.mp4", 18.0, "en", "DejaVu Sans"),
    ("midframe_station", "midframe", "station_signage.mp4", 18.0, "zh", "Noto Serif CJK SC"),
    ("two_line_snow", "two_line", "snow_rally.mp4", 20.0, "zh+en", "Noto Sans CJK SC"),
    ("two_line_cups", "two_line", "cups_whitetable_720p.mp4", 20.0, "en", "DejaVu Sans"),
    ("scene_text_blocks", "scene_text", "blocks_letters_720p.mp4", 20.0, "en", "DejaVu Sans"),
    ("scene_text_station", "scene_text", "station_signage.mp4", 18.0, "zh", "WenQuanYi Micro Hei"),
    ("scene_text_snow", "scene_text", "snow_rally.mp4", 18.0, "zh+en", "Noto Serif CJK SC"),
    ("scene_text_url_dog", "scene_text", "dog_brightfloor_720p.mp4", 18.0, "zh", "Noto Sans CJK SC"),
    ("textrich_nocaption_blocks", "textrich_nocaption", "blocks_letters_720p.mp4", 15.0, "-", "-"),
    ("textrich_nocaption_station", "textrich_nocaption", "station_signage.mp4", 15.0, "-", "-"),
    ("textrich_nocaption_japan", "textrich_nocaption", "japan_night_signs_vertical.mp4", 15.0, "-", "-"),
    ("bright_nooutline_dog", "bright_nooutline", "dog_brightfloor_720p.mp4", 18.0, "zh", "WenQuanYi Micro Hei"),
    ("bright_nooutline_cups", "bright_nooutline", "cups_whitetable_720p.mp4", 18.0, "en", "DejaVu Sans"),
    ("bright_nooutline_snow", "bright_nooutline", "snow_rally.mp4", 18.0, "zh+en", "Noto Sans CJK SC"),
    ("fades_dog", "fades", "dog_brightfloor_720p.mp4", 18.0, "zh+en", "Noto Serif CJK SC"),
    ("fades_station", "fades", "station_signage.mp4", 18.0, "zh", "Noto Sans CJK SC"),
    ("short_cues_snow", "short_cues", "snow_rally.mp4", 18.0, "zh", "WenQuanYi Micro Hei"),
    ("short_cues_cups", "short_cues", "cups_whitetable_720p.mp4", 18.0, "en", "DejaVu Sans"),
]


# ---------------------------------------------------------------------------------------------
# Helpers


@dataclass
class Frame:
    """What a clip generator needs to know: frame size and rate, length, and the clip's fonts."""

    width: int
    height: int
    fps: Fraction
    duration: float
    fonts: list[str]

    @property
    def vertical(self) -> bool:
        return self.height > self.width

    def snap(self, t: float) -> float:
        """The ASS time that starts or ends an event on the frame nearest ``t``."""
        return ass_time_for_frame(round(t * self.fps), self.fps)

    def event(self, t0: float, t1: float, text: str, style: str = "Dialogue", **kw) -> Event:
        """An event shown from the frame nearest t0 up to (not including) the frame nearest t1."""
        return Event(self.snap(t0), self.snap(t1), text, style, **kw)


_FONT_CACHE: dict = {}


def _font(family: str, size: int) -> ImageFont.FreeTypeFont:
    if (family, size) not in _FONT_CACHE:
        _FONT_CACHE[family, size] = ImageFont.truetype(font_file(family)[0], size)
    return _FONT_CACHE[family, size]


def em_factor(family: str) -> float:
    """ASS font size per pixel of em: libass sizes a font so that its ascent + descent (not its
    em) equals the ASS size; CJK fonts have a tall ascent + descent, so they draw smaller."""
    asc, desc = _font(family, 1000).getmetrics()
    return (asc + desc) / 1000


def ass_size(family: str, em_px: float) -> int:
    return round(em_px * em_factor(family))


@functools.cache
def _bold_faces(family: str) -> tuple[ImageFont.FreeTypeFont, ...]:
    """Every face of ``family``'s regular and bold font files whose name starts with the family:
    libass draws bold "WenQuanYi Micro Hei" (no bold face) with the collection's "WenQuanYi Micro
    Hei Mono", 44 % wider on Latin text, so a bold line must fit in the widest of them."""
    faces = []
    for path in dict.fromkeys([font_file(family)[0], font_file(f"{family}:bold")[0]]):
        index = 0
        while True:
            try:
                f = ImageFont.truetype(path, 1000, index=index)
            except OSError:
                break
            if f.getname()[0].startswith(family):
                faces.append(f)
            index += 1
    return tuple(faces) or (_font(family, 1000),)


def text_width(text: str, family: str, size: int, bold: bool = False) -> float:
    """Widest line in pixels as libass draws it (PIL at the em size; checked against libass
    renders of each font to within 1 %)."""
    faces = _bold_faces(family) if bold else [_font(family, 1000)]
    return max(f.getlength(line) for f in faces for line in text.split("\\N")) * size / 1000 / em_factor(family)


def fits(text: str, style: Style, max_w: float) -> bool:
    return text_width(text, style.font, style.size, style.bold) + 2 * style.outline + 2 <= max_w


class Texts:
    """Draws texts without repeats within a clip; only texts that fit ``max_w`` in ``style``."""

    def __init__(self, rng: random.Random, pool: list[str]):
        self.rng, self.left = rng, list(pool)
        rng.shuffle(self.left)

    def take(self, style: Style, max_w: float) -> str:
        """The next text that fits on one line, else (narrow vertical frames) the next one that
        fits once broken in two at its middle space or comma, as subtitlers do."""
        for i, text in enumerate(self.left):
            if fits(text, style, max_w):
                return self.left.pop(i)
        for i, text in enumerate(self.left):
            broken = break_in_two(text)
            if broken and fits(broken, style, max_w):
                del self.left[i]
                return broken
        raise RuntimeError(f"no text fits {max_w:.0f} px in {style.font} {style.size}")


def break_in_two(text: str) -> str | None:
    """``text`` as two lines ("\\N") broken near its middle: at a space for English, after a
    comma or at the middle character for Chinese."""
    if " " in text:
        cuts = [i for i, c in enumerate(text) if c == " "]
        i = min(cuts, key=lambda i: abs(i - len(text) / 2))
        return text[:i] + "\\N" + text[i + 1:]
    if len(text) < 6:
        return None
    i = text.find("，")
    i = i + 1 if 0 < i < len(text) - 2 else (len(text) + 1) // 2
    return text[:i] + "\\N" + text[i:]


def zh_or_en(rng: random.Random, language: str) -> str:
    return {"zh": "zh", "en": "en"}.get(language) or rng.choice(["zh", "en"])


def dialogue_style(rng: random.Random, fr: Frame, name: str = "Dialogue", scale: float = 1.0,
                   **kw) -> Style:
    font = fr.fonts[1 if name == "Top" else 0]
    # Glyph (em) size: 4.5-5.8 % of the height, or 6-7.5 % of the width on vertical video.
    em = (fr.width * rng.uniform(0.06, 0.075) if fr.vertical else fr.height * rng.uniform(0.045, 0.058)) * scale
    size = ass_size(font, em)
    outline = round(max(1.5, em * rng.uniform(0.05, 0.07)) * 2) / 2
    args = dict(font=font, size=size, outline=outline, shadow=rng.choice([0, 0, 1]),
                margin_l=round(fr.width * 0.04), margin_r=round(fr.width * 0.04),
                margin_v=round(fr.height * rng.uniform(0.05, 0.09)))
    args.update(kw)
    return Style(name, **args)


def timeline(rng: random.Random, fr: Frame, dur=(1.0, 4.0), gap=(0.3, 1.5), first=(0.4, 1.2),
             tail=0.4) -> list[tuple[float, float]]:
    """Cue times: durations and gaps drawn uniformly, inside the clip."""
    out, t = [], rng.uniform(*first)
    while True:
        d = rng.uniform(*dur)
        if t + d > fr.duration - tail:
            return out
        out.append((t, t + d))
        t += d + rng.uniform(*gap)


def iou(a, b) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def texts_for(rng: random.Random, language: str) -> dict[str, Texts]:
    return {"zh": Texts(rng, ZH), "en": Texts(rng, EN)}


def plain_clip(rng, fr, language, styles, **timeline_kw):
    """Bottom captions one after another (the base most classes vary)."""
    style = styles[0]
    pools = texts_for(rng, language)
    max_w = fr.width - 2 * style.margin_l
    return [fr.event(t0, t1, pools[zh_or_en(rng, language)].take(style, max_w))
            for t0, t1 in timeline(rng, fr, **timeline_kw)]


# ---------------------------------------------------------------------------------------------
# One generator per class: (rng, frame, language) -> (styles, events)


def gen_two_regions(rng, fr, language):
    bottom = dialogue_style(rng, fr)
    top_lang = language.split("+")[-1]
    top = top_style(rng, fr)
    bottom_lang = language.split("+")[0]
    pools = texts_for(rng, bottom_lang)
    max_w = fr.width - 2 * bottom.margin_l
    bottom_cues = timeline(rng, fr, dur=(1.5, 3.5))
    events = [fr.event(t0, t1, pools[bottom_lang].take(bottom, max_w)) for t0, t1 in bottom_cues]
    top_pool = Texts(rng, ZH_TOP if top_lang == "zh" else EN_TOP)
    for s, e in clear_spans(rng, fr, events, bottom_cues, first=(0.8, 1.6), lead=(0.0, 1.0), dur=(2.0, 4.0),
                            gap=(0.6, 2.0), room=2.5, tail=0.4, tries=200):
        events.append(fr.event(s, e, top_pool.take(top, fr.width - 2 * top.margin_l), "Top"))
    return [bottom, top], events


def top_style(rng: random.Random, fr: Frame) -> Style:
    """A second region's style: smaller, white or yellow, at the top (centred or left)."""
    return dialogue_style(rng, fr, name="Top", scale=0.8, primary=rng.choice([WHITE, YELLOW]),
                          alignment=rng.choice([8, 7]), margin_v=round(fr.height * rng.uniform(0.04, 0.07)))


def clear_spans(rng: random.Random, fr: Frame, events: list[Event], cues: list[tuple[float, float]], *,
                first, lead, dur, gap, room: float, tail: float, tries: int) -> list[tuple[float, float]]:
    """Spans for a second region's cues, drawn one after another (the first from ``first`` s, each
    ``lead`` after the last try's time, ``dur`` long, the next ``gap`` after it, while ``room`` s
    are left; each ending ``tail`` s before the clip's end): they overlap ``cues`` but every
    boundary is >= 0.5 s from every boundary of ``events`` and none overlaps a cue with IoU >=
    0.4, so matching by time stays unambiguous. A time where ``tries`` draws fail moves on 0.3 s."""
    bounds = [x for ev in events for x in (ev.start, ev.end)]
    out: list[tuple[float, float]] = []
    t = rng.uniform(*first)
    while t < fr.duration - room:
        for _ in range(tries):
            s = fr.snap(t + rng.uniform(*lead))
            e = fr.snap(s + rng.uniform(*dur))
            if (e < fr.duration - tail and all(abs(x - b) >= 0.5 for x in (s, e) for b in bounds)
                    and all(iou((s, e), c) < 0.4 for c in cues)):
                out.append((s, e))
                t = e + rng.uniform(*gap)
                break
        else:
            t += 0.3
    return out


def gen_moving(rng, fr, language):
    style = dialogue_style(rng, fr, scale=1.1, bold=True, primary=rng.choice([WHITE, YELLOW]))
    style = replace(style, outline=style.outline + 1)
    w, h = fr.width, fr.height
    places = {  # name: (an, pos or None)
        "bottom": (2, None), "top": (8, None), "left": (1, None), "right": (3, None),
        "middle": (5, (w // 2, h // 2)), "upper": (5, (w // 2, round(h * 0.3))),
        "lower": (5, (w // 2, round(h * 0.68))), "mid_left": (4, (style.margin_l, round(h * 0.42))),
    }
    pools = texts_for(rng, language)
    events, last = [], None
    for t0, t1 in timeline(rng, fr, dur=(1.2, 3.0), gap=(0.3, 1.0)):
        place = rng.choice([p for p in places if p != last])
        last = place
        an, pos = places[place]
        max_w = w - 2 * style.margin_l
        text = pools[zh_or_en(rng, language)].take(style, max_w)
        events.append(fr.event(t0, t1, text, an=an, pos=pos))
    return [style], events


def gen_midframe(rng, fr, language):
    style = dialogue_style(rng, fr, scale=1.05, bold=rng.random() < 0.5)
    pools = texts_for(rng, language)
    events = []
    for t0, t1 in timeline(rng, fr):
        y = round(fr.height * rng.uniform(0.40, 0.60))
        text = pools[zh_or_en(rng, language)].take(style, fr.width - 2 * style.margin_l)
        events.append(fr.event(t0, t1, text, an=5, pos=(fr.width // 2, y)))
    return [style], events


def gen_two_line(rng, fr, language):
    style = dialogue_style(rng, fr)
    pools = texts_for(rng, language)
    pairs = list(ZH_EN)
    rng.shuffle(pairs)
    max_w = fr.width - 2 * style.margin_l
    events = []
    for i, (t0, t1) in enumerate(timeline(rng, fr, dur=(1.5, 4.0))):
        if i % 3 == 1:  # every third caption a two-line stack
            if language == "zh+en" and pairs and fits("\\N".join(pairs[0]), style, max_w):
                text = "\\N".join(pairs.pop(0))
            else:
                lang = zh_or_en(rng, language)
                text = pools[lang].take(style, max_w) + "\\N" + pools[lang].take(style, max_w)
        else:
            text = pools[zh_or_en(rng, language)].take(style, max_w)
        events.append(fr.event(t0, t1, text))
    return [style], events


def gen_scene_text(rng, fr, language):
    style = dialogue_style(rng, fr)
    return [style], plain_clip(rng, fr, language, [style])


def gen_scene_text_url(rng, fr, language):
    """Captions plus a static URL printed at the caption height on the left (not a caption)."""
    style = dialogue_style(rng, fr)
    scene = Style("Scene", "DejaVu Sans", ass_size("DejaVu Sans", fr.height * 0.026), primary=colour(215, 215, 215),
                  outline_colour=colour(40, 40, 40), outline=1, shadow=0, alignment=1,
                  margin_l=round(fr.width * 0.03))
    url = rng.choice(URLS)
    url_w = text_width(url, scene.font, scene.size)
    # Keep captions (centred) clear of the URL: both sides lose the URL's width plus a gap.
    max_w = fr.width - 2 * (scene.margin_l + url_w + 30)
    pools = texts_for(rng, language)
    events = [fr.event(t0, t1, pools[zh_or_en(rng, language)].take(style, max_w))
              for t0, t1 in timeline(rng, fr)]
    baseline = fr.height - style.margin_v
    events.append(Event(0.0, ass_time_for_frame(round(fr.duration * fr.fps) + 5, fr.fps), url, "Scene",
                        an=1, pos=(scene.margin_l, baseline)))
    return [style, scene], events


def gen_textrich_nocaption(rng, fr, language):
    return [Style("Dialogue", "Noto Sans CJK SC", 40)], []


def gen_bright_nooutline(rng, fr, language):
    style = dialogue_style(rng, fr, primary=WHITE, outline=0, shadow=0)
    return [style], plain_clip(rng, fr, language, [style])


def gen_fades(rng, fr, language):
    style = dialogue_style(rng, fr)
    pools = texts_for(rng, language)
    max_w = fr.width - 2 * style.margin_l
    return [style], [fr.event(t0, t1, pools[zh_or_en(rng, language)].take(style, max_w), fad=(200, 200))
                     for t0, t1 in timeline(rng, fr)]


def gen_short_cues(rng, fr, language):
    """A mix of ordinary cues, 0.2-0.3 s cues and back-to-back runs, including a 0.8-s reply
    right after a two-line caption."""
    style = dialogue_style(rng, fr)
    lang = zh_or_en(rng, language)
    pools = texts_for(rng, language)[lang]
    short = Texts(rng, ZH_SHORT if lang == "zh" else EN_SHORT)
    reply = Texts(rng, ZH_REPLY if lang == "zh" else EN_REPLY)
    max_w = fr.width - 2 * style.margin_l
    patterns = ["short", "back_to_back", "short_after", "short", "back_to_back"]
    rng.shuffle(patterns)
    patterns.insert(rng.randint(0, 2), "two_line_reply")
    events, t = [], rng.uniform(0.4, 0.8)

    def add(d, text):
        nonlocal t
        events.append(fr.event(t, t + d, text))
        t += d

    for p in patterns + ["normal"] * 10:
        need = {"normal": 4.0, "short": 0.3, "back_to_back": 6.5, "two_line_reply": 4.8, "short_after": 2.8}[p]
        if t + need > fr.duration - 0.4:
            continue
        if p == "normal":
            add(rng.uniform(1.0, 3.0), pools.take(style, max_w))
        elif p == "short":
            add(rng.uniform(0.2, 0.3), short.take(style, max_w))
        elif p == "back_to_back":
            add(rng.uniform(1.0, 2.5), pools.take(style, max_w))
            add(rng.uniform(1.0, 2.5), pools.take(style, max_w))
        elif p == "two_line_reply":
            add(rng.uniform(2.0, 3.0), pools.take(style, max_w) + "\\N" + pools.take(style, max_w))
            add(0.8, reply.take(style, max_w))
        elif p == "short_after":
            add(rng.uniform(1.0, 2.0), pools.take(style, max_w))
            add(rng.uniform(0.2, 0.3), short.take(style, max_w))
        t += rng.uniform(0.3, 1.0)
    return [style], events


GENERATORS = {
    "two_regions": gen_two_regions, "moving": gen_moving, "midframe": gen_midframe,
    "two_line": gen_two_line, "scene_text": gen_scene_text, "textrich_nocaption": gen_textrich_nocaption,
    "bright_nooutline": gen_bright_nooutline, "fades": gen_fades, "short_cues": gen_short_cues,
}


def write_if_changed(path: Path, text: str) -> None:
    """Write a script only when its text changed: build.py re-renders a clip whose script is
    newer than its video."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def load_module(name: str, path: Path):
    """A generator module of another suite loaded by its path under ``name``: every suite's
    generator is "make_scripts" (and the mixed suites' sentences "texts") on sys.path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_manifest(dest: Path, seed: int, manifest: list[dict]) -> None:
    (dest / "clips.json").write_text(json.dumps({"seed": seed, "clips": manifest}, ensure_ascii=False, indent=1)
                                     + "\n", encoding="utf-8")


def draw_args(argv: list[str] | None, doc: str | None, seed: int, suite: str, here: Path) -> tuple[int, Path]:
    """A generator's ``--seed`` and ``--dest`` (its own suite's seed and folder by default), with
    ``dest/scripts`` made: the same generator draws a held-out suite from another seed."""
    import argparse

    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=seed, help=f"(default {seed}: the {suite} suite)")
    ap.add_argument("--dest", type=Path, default=here, help="folder for scripts/ and clips.json (default: here)")
    a = ap.parse_args(argv)
    dest = a.dest.resolve()
    (dest / "scripts").mkdir(parents=True, exist_ok=True)
    return a.seed, dest


def main(argv: list[str] | None = None) -> int:
    seed, dest = draw_args(argv, __doc__, SEED, "realworld", HERE)
    scripts = dest / "scripts"
    manifest = []
    for name, cls, footage, duration, language, fonts in CLIPS:
        rng = random.Random(f"{seed}:{name}")
        seg = footage_segment(footage, "eval")
        f = seg.footage
        fr = Frame(f.width, f.height, f.fps, duration, fonts.split("/"))
        gen = gen_scene_text_url if name.startswith("scene_text_url") else GENERATORS[cls]
        styles, events = gen(rng, fr, language)
        check_fonts(styles)
        events.sort(key=lambda e: (e.start, e.style))
        text = build_script(events, styles, f.width, f.height, title=name,
                            comments=[f"{'realworld' if dest == HERE else dest.name} benchmark clip {name} ({cls}); "
                                      f"generated by make_scripts.py, seed {seed}", f"footage {footage}, evaluation half, {duration:g} s"])
        write_if_changed(scripts / f"{name}.ass", text)
        manifest.append({"name": name, "class": cls, "footage": footage, "part": "eval",
                         "duration": duration, "width": f.width, "height": f.height, "fps": str(f.fps),
                         "language": language, "fonts": [] if cls == "textrich_nocaption" else fonts.split("/"),
                         "script": f"scripts/{name}.ass",
                         "captions": sum(1 for e in events if not e.style.startswith("Scene"))})
        print(f"{name:30s} {cls:20s} {f.width}x{f.height} {str(f.fps):>10s} {duration:5.1f}s "
              f"{manifest[-1]['captions']:3d} captions")
    write_manifest(dest, seed, manifest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
