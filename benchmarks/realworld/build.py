#!/usr/bin/env python3
"""Render the realworld benchmark: every clip in ``clips.json`` burned with libass over the
evaluation half of its footage, into ``build/realworld/<clip>.mp4`` with ``<clip>.json`` truth.

    .venv/bin/python benchmarks/realworld/build.py [--only CLASS] [--out DIR] [--force]

Cached: a clip is rendered again only when its mp4 is missing or older than its script (or the
footage). Truth is always rewritten from the script (cheap, and it cannot go stale).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from fractions import Fraction
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from synth.ass import check_fonts, footage_dir, read_script, render, require_subtitles_filter, truth  # noqa: E402
from synth.ass import Piece, footage_segment, frame_count, render_montage  # noqa: E402

DEFAULT_OUT = ROOT / "build" / "realworld"


SUITES = {"realworld": HERE, "languages": HERE.parent / "languages", "hard": HERE.parent / "hard",
          "redraw": HERE.parent / "redraw", "redraw2": HERE.parent / "redraw2",
          "redraw3": HERE.parent / "redraw3", "hard3": HERE.parent / "hard3",
          "fades": HERE.parent / "fades", "cuts": HERE.parent / "cuts", "cuts2": HERE.parent / "cuts2",
          "cuts3": HERE.parent / "cuts3", "mixed": HERE.parent / "mixed",
          "mixed2": HERE.parent / "mixed2", "mixed3": HERE.parent / "mixed3",
          "styles": HERE.parent / "styles", "styles2": HERE.parent / "styles2"}


def load_manifest(only: str | None = None, suite: str = "realworld") -> list[dict]:
    """Every clip of a suite (its ``clips.json``), or those named in ``only``: comma-separated
    classes and/or clip names. Each clip's ``script`` becomes an absolute path."""
    base = SUITES[suite]
    clips = json.loads((base / "clips.json").read_text(encoding="utf-8"))["clips"]
    clips = [{**c, "script": str(base / c["script"])} for c in clips]
    if only:
        wanted = {w.strip() for w in only.split(",") if w.strip()}
        known = {c["class"] for c in clips} | {c["name"] for c in clips}
        if wanted - known:
            raise SystemExit(f"unknown class or clip {sorted(wanted - known)}; classes: "
                             f"{', '.join(sorted({c['class'] for c in clips}))}")
        clips = [c for c in clips if c["class"] in wanted or c["name"] in wanted]
    return clips


def build(clips: list[dict], out_dir: Path = DEFAULT_OUT, force: bool = False, log=print) -> list[dict]:
    """Render what is stale and write every clip's truth; returns the clips with their paths."""
    require_subtitles_filter()
    out_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for clip in clips:
        script_path = Path(clip["script"])
        mp4, truth_path = out_dir / f"{clip['name']}.mp4", out_dir / f"{clip['name']}.json"
        footage = footage_dir() / clip["footage"]
        script = read_script(script_path)
        stale = (force or not mp4.exists()
                 or mp4.stat().st_mtime <= max(script_path.stat().st_mtime, footage.stat().st_mtime))
        montage = [Piece(**p) for p in clip.get("montage", [])]
        if montage:  # a clip cut together from several footage pieces
            stale = stale or any(mp4.stat().st_mtime <= (footage_dir() / p.footage).stat().st_mtime
                                 for p in montage)
        if stale and montage:
            check_fonts(script.styles.values())
            t0 = time.perf_counter()
            record = render_montage(script_path, montage, tuple(clip["size"]), Fraction(clip["fps"]), mp4,
                                    cache_dir=out_dir / "_footage", reupload=clip.get("reupload"))
            log(f"rendered {mp4.name} in {time.perf_counter() - t0:.1f} s")
        elif montage:
            fps = Fraction(clip["fps"])
            n_frames = sum(p.frames for p in montage)
            record = {"video": mp4.name, "fps": float(fps), "frames": n_frames, "cuts": clip["cuts"],
                      "captions": truth(script.events, fps, n_frames)}
        elif stale:
            check_fonts(script.styles.values())
            t0 = time.perf_counter()
            record = render(script_path, clip["footage"], clip["duration"], mp4, part=clip["part"],
                            cache_dir=out_dir / "_footage",
                            size=tuple(clip["size"]) if clip.get("size") else None,
                            content=tuple(clip["content"]) if clip.get("content") else None,
                            reupload=clip.get("reupload"))
            log(f"rendered {mp4.name} in {time.perf_counter() - t0:.1f} s")
        else:
            fps = footage_segment(clip["footage"], clip["part"]).footage.fps
            n_frames = frame_count(clip["duration"], fps)
            record = {"video": mp4.name, "fps": float(fps), "frames": n_frames,
                      "captions": truth(script.events, fps, n_frames)}
        record["class"] = clip["class"]
        truth_path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        done.append({**clip, "video": str(mp4), "truth": str(truth_path)})
    return done


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", metavar="CLASS", help="only the clips of this class")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    ap.add_argument("--force", action="store_true", help="render every clip again")
    ap.add_argument("--suite", choices=sorted(SUITES), default="realworld", help="which clips.json")
    a = ap.parse_args()
    t0 = time.perf_counter()
    clips = build(load_manifest(a.only, a.suite), a.out, a.force)
    print(f"{len(clips)} clips in {a.out} ({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
