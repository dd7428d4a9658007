"""Burn ASS captions over real footage with libass and derive frame-exact truth.

Real burned-in subtitles are mostly drawn by libass; this module uses it too, through FFmpeg's
``subtitles=`` filter, so benchmark clips look like real ones (hinting, outlines, fades, CJK
shaping) while the truth stays exact:

1. Describe captions as ``Style``s and ``Event``s (times in seconds, ASS override tags for
   position and fades), then ``build_script``/``write_script``; ``parse_script`` reads a script
   back (the committed benchmark scripts are the source of their truth).
2. ``render`` loops a half of a footage clip (ping-pong, so there is no jump cut) to the wanted
   length and burns the script over it into an H.264 mp4, frames on a constant grid k / fps.
3. ``truth`` turns the events into the scorer's captions: libass shows an event on a frame whose
   time t satisfies start <= t < end, so a caption's truth is [first frame shown, first frame
   after). Events whose style name starts with "Scene" are printed scene text (a watermark, a
   URL), not captions, and are left out.

Footage split: evaluation uses the second half of every footage clip, training the first half
(``footage_segment``). Keep it that way so benchmark backgrounds never appear in training.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Sequence

#: The point, as a fraction of each footage clip's duration, where its training half ends and
#: its evaluation half begins.
EVAL_START_FRACTION = 0.5
#: Style names starting with this mark printed scene text, never captions.
NON_CAPTION_PREFIX = "Scene"
#: An event boundary closer than this to a frame time could land on either frame (libass
#: compares integer milliseconds); scripts must keep clear of it.
AMBIGUITY_S = 0.001
ENCODE_ARGS = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-an"]


class LibassUnavailable(RuntimeError):
    """FFmpeg is missing or was built without libass (no ``subtitles`` filter)."""


# ---------------------------------------------------------------------------------------------
# Footage


def shared_dir() -> Path:
    """``$CAPTIONACC_SHARED``, else the ``shared`` directory next to the repository."""
    env = os.environ.get("CAPTIONACC_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


def footage_dir() -> Path:
    return shared_dir() / "footage"


@dataclass(frozen=True)
class Footage:
    path: Path
    width: int
    height: int
    fps: Fraction  # nominal frame rate (r_frame_rate)
    duration: float


@dataclass(frozen=True)
class Segment:
    footage: Footage
    start: float
    end: float


def probe(path: str | os.PathLike) -> Footage:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=width,height,r_frame_rate:format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True).stdout
    info = json.loads(out)
    s = info["streams"][0]
    return Footage(Path(path), int(s["width"]), int(s["height"]), Fraction(s["r_frame_rate"]),
                   float(info["format"]["duration"]))


def footage_segment(name: str, part: str = "eval") -> Segment:
    """The half of footage ``name`` a use may see: "eval" = [50 %, end), "train" = [0, 50 %)."""
    if part not in ("eval", "train"):
        raise ValueError(f"part must be 'eval' or 'train', not {part!r}")
    path = footage_dir() / name
    if not path.exists():
        raise FileNotFoundError(f"footage {path} not found (set CAPTIONACC_SHARED to the shared directory)")
    f = probe(path)
    mid = f.duration * EVAL_START_FRACTION
    return Segment(f, mid, f.duration) if part == "eval" else Segment(f, 0.0, mid)


# ---------------------------------------------------------------------------------------------
# Frame grid


def frame_at_or_after(t: float, fps: Fraction) -> int:
    """Index of the first frame whose time k / fps is >= t (exact arithmetic)."""
    return math.ceil(Fraction(t).limit_denominator(1_000_000) * fps)


def frame_count(duration: float, fps: Fraction) -> int:
    """Frames in a clip of ``duration`` seconds (the nearest whole number)."""
    return round(Fraction(duration).limit_denominator(1000) * fps)


def frame_time(k: int, fps: Fraction) -> float:
    return float(Fraction(k) / fps)


def ass_time_for_frame(k: int, fps: Fraction) -> float:
    """An ASS time (whole centiseconds) at which frame ``k`` is the first frame at or after it,
    at least ``AMBIGUITY_S`` clear of every frame time. Event start/end at this time make the
    event appear/disappear exactly on frame ``k``."""
    if k <= 0:
        return 0.0
    t = Fraction(k) / fps
    cs = math.floor((t - Fraction(2, 1000)) * 100)
    if not (Fraction(k - 1) / fps + Fraction(AMBIGUITY_S) < Fraction(cs, 100)):
        raise ValueError(f"frame rate {fps} too high for centisecond ASS times")
    return cs / 100


def snap(t: float, fps: Fraction) -> float:
    """``t`` moved to the ASS time that starts/ends an event on the nearest frame."""
    return ass_time_for_frame(round(Fraction(t).limit_denominator(1_000_000) * fps), fps)


def check_unambiguous(t: float, fps: Fraction) -> None:
    k = frame_at_or_after(t, fps)
    near = min(abs(Fraction(j) / fps - Fraction(t).limit_denominator(1_000_000)) for j in (k - 1, k))
    if near < Fraction(AMBIGUITY_S):
        raise ValueError(f"ASS time {t:.2f} s lies within {AMBIGUITY_S * 1000:.0f} ms of a frame at {fps} fps")


# ---------------------------------------------------------------------------------------------
# Script


def colour(r: int, g: int, b: int, alpha: int = 0) -> str:
    """ASS colour &HAABBGGRR (alpha 0 = opaque)."""
    return f"&H{alpha:02X}{b:02X}{g:02X}{r:02X}"


WHITE, BLACK, GREY = colour(255, 255, 255), colour(0, 0, 0), colour(170, 170, 170)
YELLOW = colour(255, 224, 64)


@dataclass(frozen=True)
class Style:
    name: str
    font: str
    size: int
    primary: str = WHITE
    outline_colour: str = BLACK
    back_colour: str = colour(0, 0, 0, 0x80)  # shadow colour
    bold: bool = False
    outline: float = 2.0
    shadow: float = 0.0
    alignment: int = 2  # numpad layout: 1-3 bottom, 4-6 middle, 7-9 top
    margin_l: int = 20
    margin_r: int = 20
    margin_v: int = 20
    spacing: float = 0.0
    italic: bool = False
    border_style: int = 1  # 1 outline and shadow; 3 an opaque box in the outline colour

    @property
    def caption(self) -> bool:
        return not self.name.startswith(NON_CAPTION_PREFIX)


_STYLE_FIELDS = ("Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
                 "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, "
                 "Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding")
_EVENT_FIELDS = "Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text"


def _num(x: float) -> str:
    return f"{x:g}"


def _style_line(s: Style) -> str:
    values = [s.name, s.font, str(s.size), s.primary, s.primary, s.outline_colour, s.back_colour,
              "-1" if s.bold else "0", "-1" if s.italic else "0", "0", "0", "100", "100", _num(s.spacing),
              "0", str(s.border_style),
              _num(s.outline), _num(s.shadow), str(s.alignment), str(s.margin_l), str(s.margin_r),
              str(s.margin_v), "1"]
    return "Style: " + ",".join(values)


@dataclass(frozen=True)
class Event:
    start: float  # seconds, whole centiseconds
    end: float
    text: str  # ASS text: "\N" for a line break, no override tags (see the fields below)
    style: str = "Default"
    an: int | None = None  # \an alignment override
    pos: tuple[int, int] | None = None  # \pos(x, y) anchor in script pixels
    fad: tuple[int, int] | None = None  # \fad(in_ms, out_ms)
    layer: int = 0

    def ass_text(self) -> str:
        tags = ""
        if self.an is not None:
            tags += f"\\an{self.an}"
        if self.pos is not None:
            tags += f"\\pos({self.pos[0]},{self.pos[1]})"
        if self.fad is not None:
            tags += f"\\fad({self.fad[0]},{self.fad[1]})"
        return ("{" + tags + "}" if tags else "") + self.text


def ass_time(t: float) -> str:
    cs = round(t * 100)
    if abs(cs - t * 100) > 1e-6:
        raise ValueError(f"{t} s is not a whole number of centiseconds (use snap())")
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def _parse_time(s: str) -> float:
    h, m, rest = s.strip().split(":")
    sec, cs = rest.split(".")
    return (int(h) * 360000 + int(m) * 6000 + int(sec) * 100 + int(cs.ljust(2, "0")[:2])) / 100


def build_script(events: Sequence[Event], styles: Sequence[Style], width: int, height: int,
                 title: str = "", comments: Sequence[str] = ()) -> str:
    """An ASS script in video pixels (PlayRes = frame size, so sizes and positions are pixels).

    WrapStyle 2: libass never wraps lines by itself; line breaks are the "\\N"s in the text, so
    the truth's lines are the lines on screen."""
    names = {s.name for s in styles}
    for e in events:
        if e.style not in names:
            raise ValueError(f"event uses undefined style {e.style!r}")
        if e.end <= e.start:
            raise ValueError(f"event ends before it starts: {e}")
    lines = ["[Script Info]", *(f"; {c}" for c in comments), f"Title: {title}", "ScriptType: v4.00+",
             "WrapStyle: 2", "ScaledBorderAndShadow: yes", f"PlayResX: {width}", f"PlayResY: {height}", "",
             "[V4+ Styles]", f"Format: {_STYLE_FIELDS}", *(_style_line(s) for s in styles), "",
             "[Events]", f"Format: {_EVENT_FIELDS}"]
    for e in events:
        lines.append(f"Dialogue: {e.layer},{ass_time(e.start)},{ass_time(e.end)},{e.style},,0,0,0,,{e.ass_text()}")
    return "\n".join(lines) + "\n"


def write_script(path: str | os.PathLike, *args, **kwargs) -> Path:
    path = Path(path)
    path.write_text(build_script(*args, **kwargs), encoding="utf-8")
    return path


@dataclass
class Script:
    info: dict[str, str] = field(default_factory=dict)
    styles: dict[str, Style] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)

    @property
    def width(self) -> int:
        return int(self.info["PlayResX"])

    @property
    def height(self) -> int:
        return int(self.info["PlayResY"])


_TAG = re.compile(r"\\(an\d|pos\([^)]*\)|fad\([^)]*\))")


def parse_script(text: str) -> Script:
    """Read a script written by ``build_script`` (and simple hand-written ones): styles, and
    events with their \\an, \\pos and \\fad overrides taken out of the text."""
    script, section, fmt = Script(), "", {}
    for raw in text.replace("\r", "").split("\n"):
        line = raw.strip()
        if not line or line.startswith(";"):
            continue
        if line.startswith("["):
            section = line.lower()
            continue
        key, _, value = line.partition(":")
        value = value.strip()
        if section == "[script info]":
            script.info[key.strip()] = value
        elif key == "Format":
            fmt[section] = [f.strip() for f in value.split(",")]
        elif section == "[v4+ styles]" and key == "Style":
            v = dict(zip(fmt[section], value.split(",", len(fmt[section]) - 1)))
            s = Style(v["Name"], v["Fontname"], int(float(v["Fontsize"])), v["PrimaryColour"],
                      v["OutlineColour"], v["BackColour"], v["Bold"] not in ("0", ""),
                      float(v["Outline"]), float(v["Shadow"]), int(v["Alignment"]), int(v["MarginL"]),
                      int(v["MarginR"]), int(v["MarginV"]), float(v["Spacing"]),
                      v["Italic"] not in ("0", ""), int(v["BorderStyle"]))
            script.styles[s.name] = s
        elif section == "[events]" and key == "Dialogue":
            v = dict(zip(fmt[section], value.split(",", len(fmt[section]) - 1)))
            body, an, pos, fad = v["Text"], None, None, None
            while body.startswith("{"):
                block, body = body[1:].split("}", 1)
                for tag in _TAG.findall(block):
                    if tag.startswith("an"):
                        an = int(tag[2:])
                    elif tag.startswith("pos"):
                        pos = tuple(int(round(float(x))) for x in tag[4:-1].split(","))
                    else:
                        fad = tuple(int(x) for x in tag[4:-1].split(","))
            script.events.append(Event(_parse_time(v["Start"]), _parse_time(v["End"]), body, v["Style"],
                                       an, pos, fad, int(v["Layer"])))
    return script


def read_script(path: str | os.PathLike) -> Script:
    return parse_script(Path(path).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------
# Truth


def plain_text(ass_text: str) -> str:
    """What the viewer reads: override blocks dropped, "\\N" (and "\\n") as a newline, "\\h" a space."""
    text = re.sub(r"\{[^}]*\}", "", ass_text)
    return text.replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")


def is_caption(event: Event) -> bool:
    return not event.style.startswith(NON_CAPTION_PREFIX)


def truth(events: Iterable[Event], fps: Fraction, n_frames: int) -> list[dict]:
    """Captions in the scorer's format: [first frame shown, first frame after) in seconds, on the
    frame grid of an ``n_frames``-frame clip at ``fps``; scene-text events left out."""
    caps = []
    for e in events:
        if not is_caption(e):
            continue
        check_unambiguous(e.start, fps)
        check_unambiguous(e.end, fps)
        k0 = frame_at_or_after(e.start, fps)
        k1 = min(frame_at_or_after(e.end, fps), n_frames)
        if k1 > k0:
            caps.append({"start": round(frame_time(k0, fps), 6), "end": round(frame_time(k1, fps), 6),
                         "text": plain_text(e.text)})
    return sorted(caps, key=lambda c: (c["start"], c["end"]))


# ---------------------------------------------------------------------------------------------
# Rendering


def ffmpeg_binary() -> str:
    """``$CAPTIONACC_FFMPEG``, else Debian's /usr/bin/ffmpeg, else ffmpeg on PATH."""
    for candidate in (os.environ.get("CAPTIONACC_FFMPEG"), "/usr/bin/ffmpeg", shutil.which("ffmpeg")):
        if candidate and os.path.exists(candidate):
            return candidate
    raise LibassUnavailable("ffmpeg not found: install Debian's ffmpeg (apt-get install ffmpeg)")


def has_subtitles_filter(ffmpeg: str | None = None) -> bool:
    try:
        out = subprocess.run([ffmpeg or ffmpeg_binary(), "-hide_banner", "-filters"],
                             capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError, LibassUnavailable):
        return False
    return any(line.split()[1:2] == ["subtitles"] for line in out.splitlines() if line.strip())


def require_subtitles_filter(ffmpeg: str | None = None) -> str:
    """The ffmpeg to use; raises ``LibassUnavailable`` if it cannot burn ASS subtitles."""
    ffmpeg = ffmpeg or ffmpeg_binary()
    if not has_subtitles_filter(ffmpeg):
        raise LibassUnavailable(
            f"{ffmpeg} has no 'subtitles' filter (FFmpeg built without libass); install Debian's "
            "ffmpeg (apt-get install ffmpeg) or point CAPTIONACC_FFMPEG at one built with --enable-libass")
    return ffmpeg


def font_file(family: str) -> tuple[str, str]:
    """(file, family) fontconfig resolves ``family`` to: what libass will draw with."""
    out = subprocess.run(["fc-match", "-f", "%{file}\t%{family}", family],
                         capture_output=True, text=True, check=True).stdout
    path, _, families = out.partition("\t")
    return path, families


def check_fonts(styles: Iterable[Style]) -> None:
    """Raise if fontconfig would substitute another font for a style's (libass falls back silently)."""
    for s in styles:
        _, families = font_file(s.font)
        if s.font.lower() not in [f.strip().lower() for f in families.split(",")]:
            raise RuntimeError(f"font {s.font!r} (style {s.name}) not installed; fontconfig gives {families!r}")


def _run(cmd: list[str], cwd: str | None = None) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")


def background(segment: Segment, out_path: str | os.PathLike, size: tuple[int, int] | None = None,
               ffmpeg: str | None = None, content: tuple[int, int] | None = None) -> Path:
    """Ping-pong loop unit of a footage segment (forward then reversed) at the footage's frame
    rate, scaled to ``size`` (width, height) if given, encoded near-losslessly; cached: kept when
    newer than the footage. ``content`` (width, height) letterboxes: the footage is scaled to it
    and centred on black bars filling ``size``."""
    out = Path(out_path)
    if out.exists() and out.stat().st_mtime >= segment.footage.path.stat().st_mtime:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    fps = segment.footage.fps
    scale = f"scale={size[0]}:{size[1]}," if size else ""
    if content:
        if not size:
            raise ValueError("a letterbox (content) needs the frame size")
        scale = f"scale={content[0]}:{content[1]},pad={size[0]}:{size[1]}:(ow-iw)/2:(oh-ih)/2:black,"
    graph = (f"[0:v]trim=start={segment.start:.6f}:end={segment.end:.6f},setpts=PTS-STARTPTS,{scale}"
             f"fps={fps},setpts=N/(FRAME_RATE*TB),split[a][b];[b]reverse[r];"
             f"[a][r]concat=n=2:v=1:a=0[v]")
    tmp = out.with_suffix(".tmp.mp4")
    _run([ffmpeg or ffmpeg_binary(), "-y", "-v", "error", "-i", str(segment.footage.path),
          "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "12",
          "-pix_fmt", "yuv420p", "-an", str(tmp)])
    tmp.replace(out)
    return out


_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def burn(script_path: str | os.PathLike, background_path: str | os.PathLike, out_path: str | os.PathLike,
         fps: Fraction, n_frames: int, ffmpeg: str | None = None) -> Path:
    """Loop ``background_path`` and burn the script over it with libass: ``n_frames`` frames at
    ``fps``, frame k at time k / fps, H.264 yuv420p, no audio."""
    ffmpeg = require_subtitles_filter(ffmpeg)
    script_path, out = Path(script_path).resolve(), Path(out_path).resolve()
    if not _SAFE_NAME.match(script_path.name):  # the name goes into a filtergraph unescaped
        raise ValueError(f"script file name {script_path.name!r}: use letters, digits, '_', '-', '.'")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.mp4")
    vf = f"fps={fps},setpts=N/(FRAME_RATE*TB),subtitles=filename={script_path.name}"
    _run([ffmpeg, "-y", "-v", "error", "-stream_loop", "-1", "-i", str(Path(background_path).resolve()),
          "-vf", vf, "-frames:v", str(n_frames), "-fps_mode", "passthrough", *ENCODE_ARGS, str(tmp)],
         cwd=str(script_path.parent))
    tmp.replace(out)
    return out


def reencode(src: str | os.PathLike, out_path: str | os.PathLike, size: tuple[int, int], crf: int,
             ffmpeg: str | None = None) -> Path:
    """A platform's re-upload: scaled to ``size`` and encoded again at a low quality (``crf``),
    so captions carry blocking and ringing. Frame times are kept (the truth does not move)."""
    out = Path(out_path).resolve()
    tmp = out.with_suffix(".tmp.mp4")
    _run([ffmpeg or ffmpeg_binary(), "-y", "-v", "error", "-i", str(Path(src).resolve()),
          "-vf", f"scale={size[0]}:{size[1]}:flags=bilinear", "-fps_mode", "passthrough",
          "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p", "-an", str(tmp)])
    tmp.replace(out)
    return out


def _burn(script_path, bg: Path, out: Path, fps: Fraction, n_frames: int, reupload: dict | None) -> None:
    """:func:`burn`, then re-encoded as a platform's re-upload if ``reupload`` says how."""
    if reupload:
        burned = burn(script_path, bg, out.with_suffix(".burned.mp4"), fps, n_frames)
        reencode(burned, out, tuple(reupload["size"]), int(reupload["crf"]))
        burned.unlink()
    else:
        burn(script_path, bg, out, fps, n_frames)


def render(script_path: str | os.PathLike, footage: str, duration: float, out_path: str | os.PathLike,
           part: str = "eval", cache_dir: str | os.PathLike | None = None,
           size: tuple[int, int] | None = None, content: tuple[int, int] | None = None,
           reupload: dict | None = None) -> dict:
    """Burn a script over ``part`` of footage ``footage`` (a file name in ``footage_dir()``) for
    ``duration`` seconds, at the footage's size or ``size`` (the script's PlayRes should match);
    returns the truth dict (also what to write as JSON next to the clip). The looped background
    is cached in ``cache_dir`` (default: ``_footage`` next to the clip). ``content`` letterboxes
    the footage inside ``size`` (:func:`background`); ``reupload`` ({"size": [w, h], "crf": n})
    re-encodes the burned clip as a platform would (:func:`reencode`)."""
    segment = footage_segment(footage, part)
    fps = segment.footage.fps
    n_frames = frame_count(duration, fps)
    out = Path(out_path)
    cache = Path(cache_dir) if cache_dir else out.parent / "_footage"
    script = read_script(script_path)
    frame = size or (segment.footage.width, segment.footage.height)
    if (script.width, script.height) != tuple(frame):
        raise ValueError(f"{script_path}: PlayRes {script.width}x{script.height} differs from the video's "
                         f"{frame[0]}x{frame[1]} (sizes and positions would be scaled)")
    tag = f"_{size[0]}x{size[1]}" if size else ""
    tag += f"_in{content[0]}x{content[1]}" if content else ""
    bg = background(segment, cache / f"{Path(footage).stem}_{part}{tag}_pingpong.mp4", size, content=content)
    _burn(script_path, bg, out, fps, n_frames, reupload)
    return {"video": out.name, "fps": float(fps), "frames": n_frames,
            "captions": truth(script.events, fps, n_frames)}



# ---------------------------------------------------------------------------------------------
# Montages: hard cuts between footage clips, as edited video has


@dataclass(frozen=True)
class Piece:
    """``frames`` frames of footage ``footage`` (a file name in ``footage_dir()``), from
    ``offset`` seconds into its ``part`` half."""

    footage: str
    offset: float
    frames: int
    part: str = "eval"


def cut_frames(pieces: Sequence[Piece]) -> list[int]:
    """The frame index where each piece after the first begins: the montage's hard cuts."""
    out, k = [], 0
    for p in pieces[:-1]:
        k += p.frames
        out.append(k)
    return out


def montage_background(pieces: Sequence[Piece], size: tuple[int, int], fps: Fraction,
                       out_path: str | os.PathLike, ffmpeg: str | None = None) -> Path:
    """The pieces one after another with hard cuts, each scaled to cover ``size`` and cropped to
    it (no bars), on one frame grid: piece i fills frames [sum of the earlier pieces' frames, +
    its own). Encoded near-losslessly; cached under ``out_path`` (name it by the pieces)."""
    out = Path(out_path)
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    inputs, graph = [], []
    for i, p in enumerate(pieces):
        seg = footage_segment(p.footage, p.part)
        start = seg.start + p.offset
        if start + p.frames / fps > seg.end + 1e-6:
            raise ValueError(f"piece {i} ({p}) runs past the {p.part} half of {p.footage} ({seg.end:.2f} s)")
        inputs += ["-i", str(seg.footage.path)]
        graph.append(f"[{i}:v]trim=start={start:.6f},setpts=PTS-STARTPTS,fps={fps},"
                     f"trim=end_frame={p.frames},setpts=PTS-STARTPTS,"
                     f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1[p{i}]")
    graph.append("".join(f"[p{i}]" for i in range(len(pieces)))
                 + f"concat=n={len(pieces)}:v=1:a=0,setpts=N/(FRAME_RATE*TB)[v]")
    tmp = out.with_suffix(".tmp.mp4")
    _run([ffmpeg or ffmpeg_binary(), "-y", "-v", "error", *inputs, "-filter_complex", ";".join(graph),
          "-map", "[v]", "-r", str(fps), "-c:v", "libx264", "-preset", "veryfast", "-crf", "12",
          "-pix_fmt", "yuv420p", "-an", str(tmp)])
    tmp.replace(out)
    return out


def render_montage(script_path: str | os.PathLike, pieces: Sequence[Piece], size: tuple[int, int],
                   fps: Fraction, out_path: str | os.PathLike, cache_dir: str | os.PathLike | None = None,
                   reupload: dict | None = None) -> dict:
    """Burn a script over a montage of footage pieces (:func:`montage_background`); as
    :func:`render` (``reupload`` too), returns the truth dict, with the cut frames added."""
    out = Path(out_path)
    n_frames = sum(p.frames for p in pieces)
    script = read_script(script_path)
    if (script.width, script.height) != tuple(size):
        raise ValueError(f"{script_path}: PlayRes {script.width}x{script.height} differs from {size}")
    cache = Path(cache_dir) if cache_dir else out.parent / "_footage"
    tag = hashlib.sha1(repr((list(pieces), tuple(size), str(fps))).encode()).hexdigest()[:10]
    bg = montage_background(pieces, size, fps, cache / f"montage_{tag}.mp4")
    _burn(script_path, bg, out, fps, n_frames, reupload)
    return {"video": out.name, "fps": float(fps), "frames": n_frames, "cuts": cut_frames(pieces),
            "captions": truth(script.events, fps, n_frames)}
