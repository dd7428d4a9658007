"""Training sequences with captions drawn by libass over the first halves of real footage.

Most real hard subtitles are drawn by libass, not PIL, over camera footage, not synthetic
strips; this source gives the model both. One *block* is one FFmpeg run: the training half of
one ``../shared/footage`` clip (``synth.ass.footage_segment(name, "train")``; the realworld
benchmark uses the other half), ping-ponged and looped at 10 Hz, with three caption tracks
(bottom, middle, top band) burned in by the ``subtitles`` filter and encoded to H.264 at a
random CRF, bit-reproducibly (single-threaded x264 without mbtree, as ``render.py``). The clip
is cached under ``build/`` and cut into ``SEQS_PER_BLOCK`` sequences: 16-frame windows of one
track's band, cropped as production crops (``gpu_kernels.band``), with a band sized like
``gpu_kernels.layout`` sizes one (text ± 0.4 line heights; two text heights each side).

Labels come from the script: an event timed on 10 Hz frames [s, e) is caption ``id`` there.
A ``\\fad`` makes frames faint; as in ``sequences.make_sequence``, a frame drawn at opacity
≤ 0.3 is labelled empty, one at ≥ 0.6 a caption, and fades that would sample in between are
drawn again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from PIL import ImageFont

from gpu_kernels.band import band_cropper
from gpu_kernels.crop import region_to_box
from synth.ass import (Event, Segment, Style, build_script, colour, ffmpeg_binary, footage_dir, footage_segment,
                       require_subtitles_filter)

from .render import X264_DETERMINISTIC, CaptionStyle, FontSpec, font_pool
from .sequences import Sequence, caption_text, sample_timeline

FOOTAGE = ("blocks_letters_720p.mp4", "cups_whitetable_720p.mp4", "dog_brightfloor_720p.mp4",
           "japan_night_signs_vertical.mp4", "snow_rally.mp4", "station_signage.mp4")
RATE = 10  # Hz: the grid production samples
SEQ_LEN = 16
WINDOWS = 16  # windows per track and block
TRACKS = ("bottom", "top", "middle")  # planned in this order: the middle band fills the gap
SEQS_PER_BLOCK = WINDOWS * len(TRACKS)
BLOCK_FRAMES = SEQ_LEN * (WINDOWS + 1)  # one window to spare: each track starts at a random offset
# libass families, training's font files only (render.font_pool("train")): WenQuanYi and DejaVu
# Serif are the held-aside set's, so they stay out. (family, has CJK glyphs, bold face allowed)
FONTS = (("Noto Sans CJK SC", True, True), ("Noto Sans CJK TC", True, True), ("Noto Sans CJK JP", True, True),
         ("Noto Serif CJK SC", True, True), ("Noto Serif CJK JP", True, True), ("Noto Sans Mono CJK JP", True, False),
         ("DejaVu Sans", False, True), ("DejaVu Sans Condensed", False, False), ("DejaVu Sans Light", False, False),
         ("DejaVu Sans Mono", False, True))
FAINT, SOLID = 0.3, 0.6  # opacity: at most FAINT is labelled empty, at least SOLID a caption


def cache_dir() -> Path:
    env = os.environ.get("CAPTIONACC_LIBASS_CACHE")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "build" / "libass_cache"


# ---------------------------------------------------------------------------------------------
# Fonts as libass finds them (fontconfig) and sizes them


@functools.lru_cache(maxsize=None)
def face(family: str, bold: bool) -> FontSpec:
    """The file fontconfig (so libass) draws ``family`` with; raises if it would substitute."""
    out = subprocess.run(["fc-match", "-f", "%{file}\t%{index}\t%{family}", family + (":bold" if bold else "")],
                         capture_output=True, text=True, check=True).stdout
    path, index, families = out.split("\t")
    if family.lower() not in [f.strip().lower() for f in families.split(",")]:
        raise RuntimeError(f"font {family!r} not installed (fontconfig gives {families!r}): "
                           "apt-get install fonts-noto-cjk fonts-dejavu")
    return FontSpec(path, int(index), cjk="CJK" in family)


@functools.lru_cache(maxsize=None)
def _pil(spec: FontSpec, size: int = 1000) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(spec.path, size, index=spec.index)


def em_factor(spec: FontSpec) -> float:
    """ASS size per em pixel: libass makes ascent + descent, not the em, the ASS size."""
    asc, desc = _pil(spec).getmetrics()
    return (asc + desc) / 1000


def ink_rows(spec: FontSpec, line: str) -> tuple[float, float]:
    """Ink top and bottom of a line in ems, from the top of its libass line box."""
    asc, _ = _pil(spec).getmetrics()
    bbox = _pil(spec).getbbox(line or " ", anchor="ls")
    return (asc + bbox[1]) / 1000, (asc + bbox[3]) / 1000


# ---------------------------------------------------------------------------------------------
# Plan: everything drawn from the seed, no rendering


@dataclass
class Track:
    name: str
    frames: np.ndarray  # (BLOCK_FRAMES,) caption id on each 10 Hz frame, -1 none (faint = -1)
    texts: list[str]  # texts[id], lines joined by "\n"
    cues: list[tuple[int, int, bool]]  # (first, end) 10 Hz frames each event is timed on, faded
    band: tuple[float, float, float, float]  # (x0, y0, x1, y1) pixels, before per-window jitter
    margin: tuple[float, float]  # (vertical, horizontal) band margins in pixels, jittered per window
    offset: int  # first window's start frame


@dataclass
class BlockPlan:
    seed: int
    footage: str
    segment: tuple[float, float]  # seconds of the footage used: [start, end)
    size: tuple[int, int]  # rendered (width, height)
    script: str  # the ASS script
    ffmpeg_args: list[str]  # after "ffmpeg -i FOOTAGE" (filtergraph names ``script.ass``)
    tracks: list[Track]


def _sample_style(rng: np.random.Generator, name: str, family: str, bold: bool, size: int, em: float,
                  keep: Style | None = None) -> Style:
    """A random look; with ``keep``, that style's outline and shadow (the band is sized for them)."""
    r = rng.random()
    fill = ((255, 255, 255) if r < 0.55 else (255, 224, 64) if r < 0.67 else (250, 230, 60) if r < 0.73
            else (230, 230, 230) if r < 0.85 else tuple(int(c) for c in rng.integers(150, 256, 3)) if r < 0.97
            else (20, 20, 20))
    outline = 0.0 if rng.random() < 0.22 else round(max(1.0, em * rng.uniform(0.04, 0.11)) * 2) / 2
    shadow = 0.0 if rng.random() < 0.6 else round(max(1.0, em * rng.uniform(0.03, 0.08)) * 2) / 2
    if keep is not None:
        outline, shadow = keep.outline, keep.shadow
    dark = sum(fill) < 200
    if dark and outline == 0:  # black text needs its light outline (as render.sample_style)
        fill = (255, 255, 255)
        dark = False
    edge = (255, 255, 255) if dark else tuple(int(c) for c in rng.integers(0, 50, 3))
    return Style(name, family, size, primary=colour(*fill), outline_colour=colour(*edge),
                 back_colour=colour(0, 0, 0, int(rng.integers(0, 0xA0))), bold=bold, outline=outline,
                 shadow=shadow, spacing=round(float(rng.uniform(0, 0.06 * em)), 1) if rng.random() < 0.1 else 0.0)


def _opacity(k: int, start: int, end: int, fin: int, fout: int) -> float:
    """Opacity of an event [start, end) ms with \\fad(fin, fout) on the frame at k / RATE s, as
    libass computes it (0 when not shown)."""
    now, dur = k * 1000 // RATE - start, end - start
    if not 0 <= now < dur:
        return 0.0
    op = 1.0
    if fin:
        op = min(op, now / fin)
    if fout:
        op = min(op, (dur - now) / fout)
    return max(0.0, op)


def _timing(rng: np.random.Generator, s: int, e: int, fade_in: bool, fade_out: bool):
    """(start ms, end ms, \\fad or None, opacity per frame s-1 … e) of an event on frames [s, e).
    Plain events start 20 ms before frame s (clear of it, as ``synth.ass.ass_time_for_frame``)."""
    start, end = s * 1000 // RATE - (20 if s else 0), e * 1000 // RATE - 20
    plain = [_opacity(k, start, end, 0, 0) for k in range(s - 1, e + 1)]
    if not (fade_in or fade_out):
        return start, end, None, plain
    for _ in range(8):
        a = start - int(rng.integers(0, 8)) * 10 if fade_in else start  # still after frame s-1
        b = end - int(rng.integers(0, 7)) * 10 if fade_out else end
        fin = int(rng.integers(10, 41)) * 10 if fade_in else 0
        fout = int(rng.integers(10, 41)) * 10 if fade_out else 0
        ops = [_opacity(k, a, b, fin, fout) for k in range(s - 1, e + 1)]
        if all(o <= FAINT or o >= SOLID for o in ops) and max(ops) >= SOLID:
            return a, b, (fin, fout), ops
    return start, end, None, plain


@functools.lru_cache(maxsize=None)
def training_segment(footage: str) -> Segment:
    """The part of a footage clip training may use: its first half (the benchmark's is the second)."""
    return footage_segment(footage, "train")


def plan_block(seed: int, footage: str) -> BlockPlan:
    """Draw one block from its seed: footage window, size, encoding and three caption tracks."""
    rng = np.random.default_rng(seed)
    seg = training_segment(footage)
    fw, fh = seg.footage.width, seg.footage.height
    scale = 2 / 3 if fh >= 720 and fw > fh and rng.random() < 0.3 else 1.0  # 720p → 480p video too
    w, h = int(round(fw * scale / 2)) * 2, int(round(fh * scale / 2)) * 2
    portrait = h > w

    events: list[Event] = []
    styles: list[Style] = []
    tracks: list[Track] = []
    taken: list[tuple[float, float]] = []  # vertical extents of bands placed so far
    for name in TRACKS:
        script = str(rng.choice(["latin", "hanzi", "kana", "hangul"], p=[0.45, 0.4, 0.08, 0.07]))
        fonts = [f for f in FONTS if f[1] or script == "latin"]
        family, _, can_bold = fonts[int(rng.integers(len(fonts)))]
        bold = bool(can_bold and rng.random() < 0.35)
        font = face(family, bold)
        em = w * rng.uniform(0.055, 0.08) if portrait else h * rng.uniform(0.04, 0.068)
        size = int(round(em * em_factor(font)))
        em = size / em_factor(font)
        lines = 2 if rng.random() < 0.25 else 1  # the band's tallest stack
        style = _sample_style(rng, f"T{len(tracks)}", family, bold, size, em)
        styles.append(style)
        col = "center" if portrait or rng.random() < 0.8 else str(rng.choice(["left", "right"]))
        row = {"bottom": "bottom", "top": "top"}.get(name) or str(rng.choice(["bottom", "middle", "top"]))
        an = {"bottom": 0, "middle": 3, "top": 6}[row] + {"left": 1, "center": 2, "right": 3}[col]
        # Horizontal band as the layout sizes it: centred captions get a symmetric crop at least
        # 60% of the width wide; left/right ones run to the far edge. Text keeps 2 ems inside.
        if col == "center":
            half = 0.5 if portrait else float(rng.uniform(0.3, 0.5))
            x = w / 2 + (0.0 if portrait else float(rng.normal(0, 0.01 * w)))
            x0, x1 = w * (0.5 - half), w * (0.5 + half)
            room = min(x1 - x0 - 4 * em, 0.92 * w)
        else:
            inset = float(rng.uniform(0.04, 0.15)) * w
            x = inset if col == "left" else w - inset
            x0, x1 = (max(0.0, inset - 2 * em), float(w)) if col == "left" else (0.0, min(float(w), w - inset + 2 * em))
            room = w - inset - 0.04 * w
        pil = CaptionStyle(font, max(1, int(round(em))), (255, 255, 255), int(math.ceil(style.outline)), (0, 0, 0),
                           None, 0.0, "center", 0.0, 0.5, 1.0, 1.0)

        # Timeline (as sequences.sample_timeline: cues of 1-3 frames, back to back, one-character
        # changes, repeats) and texts.
        segs = sample_timeline(rng, BLOCK_FRAMES)
        fades = rng.random() < 0.2
        texts: list[str] = []
        ids = np.full(BLOCK_FRAMES, -1, dtype=np.int64)
        cues, cur = [], style
        for k, (s, e, how) in enumerate(segs):
            n_lines = 2 if lines == 2 and rng.random() < 0.6 else 1
            text = caption_text(rng, how, texts, script, n_lines, pil, int(room))
            texts.append(text)
            if k and rng.random() < 0.12:  # a caption in another colour (signs, a second speaker)
                cur = _sample_style(rng, f"T{len(tracks)}s{k}", family, bold, size, em, keep=style)
                styles.append(cur)
            long = fades and e - s >= 4
            gap_before = segs[k - 1][1] < s if k else s > 0
            gap_after = k + 1 == len(segs) or segs[k + 1][0] > e
            a, b, fad, ops = _timing(rng, s, e, long and gap_before, long and gap_after)
            for j, op in zip(range(s - 1, e + 1), ops):
                if 0 <= j < BLOCK_FRAMES and op >= SOLID:
                    ids[j] = k
            cues.append((s, e, fad is not None))
            events.append(Event(a / 1000, b / 1000, text.replace("\n", "\\N"), cur.name, an=an,
                                pos=(int(round(x)), 0), fad=fad))  # y filled in below
        # Vertical band: the ink of every line the track shows ± 0.4 line heights.
        top_ink = min(ink_rows(font, t.split("\n")[0])[0] for t in texts) * em
        bottom_ink = max(ink_rows(font, t.split("\n")[-1])[1] for t in texts) * em
        line_h = bottom_ink - top_ink  # one line's ink height
        block_ink = (lines - 1) * size + line_h
        pad = style.outline + style.shadow
        margin = 0.4 * line_h + pad
        need = block_ink + 2 * margin
        if name == "bottom":
            y1 = h * (1 - rng.uniform(0.02, 0.1))
            y0 = y1 - need
        elif name == "top":
            y0 = h * rng.uniform(0.02, 0.1)
        else:
            lo, hi = taken[1][1] + 2, taken[0][0] - 2 - need  # between the top and bottom bands
            if hi < lo:
                raise RuntimeError(f"no room for a middle band in {w}x{h}")  # cannot happen at these sizes
            y0 = float(rng.uniform(lo, hi))
        y1 = y0 + need
        taken.append((y0, y1))
        # Anchor y: the line box edge that puts the ink where the band expects it (1-line
        # captions in a 2-line band sit on the anchored side).
        ink_top = y0 + margin
        box_top = ink_top - top_ink
        y_anchor = {"top": box_top, "bottom": box_top + lines * size,
                    "middle": box_top + lines * size / 2}[row]
        for i in range(len(events) - len(segs), len(events)):
            events[i] = replace(events[i], pos=(events[i].pos[0], int(round(y_anchor))))
        tracks.append(Track(name, ids, texts, cues, (x0, y0, x1, y1), (0.4 * line_h, 2 * em),
                            int(rng.integers(0, SEQ_LEN))))

    speed = 0.5 if rng.random() < 0.3 else 1.0  # slow motion: the band changes less per sample
    offset = int(rng.integers(0, 100))  # start anywhere in the looped footage
    crf, preset = int(rng.integers(16, 35)), str(rng.choice(["ultrafast", "superfast", "veryfast"]))
    scale_f = f"scale={w}:{h}," if (w, h) != (fw, fh) else ""
    graph = (f"[0:v]trim=start={seg.start:.6f}:end={seg.end:.6f},setpts=(PTS-STARTPTS)/{speed},fps={RATE},"
             f"{scale_f}split[a][b];[b]reverse,trim=start_frame=1[r];[a][r]concat=n=2:v=1:a=0,"
             f"loop=loop=-1:size=32767,trim=start_frame={offset},setpts=N/({RATE}*TB),"
             f"subtitles=filename=script.ass[v]")
    args = ["-filter_complex", graph, "-map", "[v]", "-frames:v", str(BLOCK_FRAMES), "-c:v", "libx264",
            "-preset", preset, "-crf", str(crf), "-g", str(3 * RATE), "-pix_fmt", "yuv420p", "-threads", "1",
            "-x264-params", X264_DETERMINISTIC, "-an", "-fflags", "+bitexact", "-flags:v", "+bitexact"]
    text = build_script(events, styles, w, h, title=f"training block {seed}")
    return BlockPlan(seed, footage, (seg.start, seg.end), (w, h), text, args, tracks)


# ---------------------------------------------------------------------------------------------
# Render (cached) and cut


@functools.lru_cache(maxsize=None)
def _footage_id(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def _ffmpeg() -> str:
    return require_subtitles_filter(ffmpeg_binary())


def render_block(plan: BlockPlan, cache: Path | None = None) -> Path:
    """The block's clip, rendered once per (footage, seed, recipe) into ``cache``."""
    src = footage_dir() / plan.footage
    recipe = json.dumps([plan.script, plan.ffmpeg_args, _footage_id(str(src))])
    key = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    root = Path(cache or cache_dir()) / f"{Path(plan.footage).stem}_{plan.seed}_{key}"
    out = root / "block.mp4"
    if out.exists():
        return out
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f"tmp{os.getpid()}"
    # Replaced, not rewritten: another run rendering the same block may be reading it.
    tmp.with_suffix(".ass").write_text(plan.script, encoding="utf-8")
    tmp.with_suffix(".ass").replace(root / "script.ass")
    tmp = tmp.with_suffix(".mp4")
    # One thread everywhere (decoder, filters, x264): the bytes must not depend on scheduling.
    cmd = [_ffmpeg(), "-nostdin", "-y", "-v", "error", "-threads", "1", "-filter_complex_threads", "1",
           "-i", str(src), *plan.ffmpeg_args, str(tmp)]
    r = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
    tmp.replace(out)
    return out


def _window_box(rng: np.random.Generator, t: Track, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The track's band with the layout's margins drawn anew (OCR boxes vary run to run),
    as ``region_to_box`` makes it (even pixels)."""
    w, h = size
    x0, y0, x1, y1 = t.band
    mv, mh = t.margin
    y0, y1 = y0 + mv * rng.uniform(-0.4, 0.4), y1 + mv * rng.uniform(-0.4, 0.4)
    if x0 > 0:
        x0 += mh * rng.uniform(-0.25, 0.25)
    if x1 < w:
        x1 += mh * rng.uniform(-0.25, 0.25)
    return region_to_box(max(0.0, x0 / w), max(0.0, y0 / h), min(1.0, x1 / w), min(1.0, y1 / h), w, h)


def block_sequences(seed: int, footage: str, cache: Path | None = None) -> Iterator[Sequence]:
    """The block's ``SEQS_PER_BLOCK`` sequences, window by window, track by track, each yielded
    as soon as its last frame is decoded (one block's frames are never all in memory)."""
    plan = plan_block(seed, footage)
    path = render_block(plan, cache)
    rng = np.random.default_rng([seed, 1])  # crops: drawn after the plan, from a stream of their own
    jobs = []  # (first frame, track, box)
    for j in range(WINDOWS):
        for t in plan.tracks:
            jobs.append((t.offset + j * SEQ_LEN, t, _window_box(rng, t, plan.size)))
    crops = [band_cropper(box) for _, _, box in jobs]
    bufs: list[list[np.ndarray]] = [[] for _ in jobs]
    with av.open(str(path)) as c:
        c.streams.video[0].codec_context.thread_count = 1  # workers run in parallel already
        for k, frame in enumerate(c.decode(video=0)):
            for n, (first, t, _) in enumerate(jobs):
                if first <= k < first + SEQ_LEN:
                    bufs[n].append(crops[n](frame).rgb())
                    if k == first + SEQ_LEN - 1:
                        yield _sequence(np.stack(bufs[n]), t, first)
                        bufs[n] = []
    if any(bufs):
        raise RuntimeError(f"{path}: fewer than {BLOCK_FRAMES} frames")


def _sequence(frames: np.ndarray, t: Track, first: int) -> Sequence:
    """Ids renumbered from 0 in order of appearance, as make_sequence numbers them."""
    raw = t.frames[first : first + SEQ_LEN]
    order = list(dict.fromkeys(int(i) for i in raw if i >= 0))
    ids = np.array([order.index(int(i)) if i >= 0 else -1 for i in raw], dtype=np.int64)
    return Sequence(frames, ids, [t.texts[i] for i in order])


def block_of(index: int, base_seed: int) -> tuple[int, str]:
    """(seed, footage) of block ``index``: footage taken in turn, so all six are used alike."""
    return base_seed + index, FOOTAGE[index % len(FOOTAGE)]


def make_libass_sequences(base_seed: int, count: int, cache: Path | None = None) -> list[Sequence]:
    """The first ``count`` sequences of blocks 0, 1, … (full-size frames: keep ``count`` small)."""
    out: list[Sequence] = []
    for b in range(math.ceil(count / SEQS_PER_BLOCK)):
        for seq in block_sequences(*block_of(b, base_seed), cache):
            out.append(seq)
            if len(out) == count:
                return out
    return out


def check_fonts_are_training_fonts() -> None:
    """Every face libass may draw with is a file of the training font pool."""
    train = {s.path for s in font_pool("train")}
    for family, _, can_bold in FONTS:
        for bold in (False, True) if can_bold else (False,):
            if face(family, bold).path not in train:
                raise RuntimeError(f"{family} (bold={bold}) is {face(family, bold).path}: not a training font")
