"""Layout pass: cost against quality for cheaper settings of the whole-frame OCR.

Runs extract (the layout pass) on every clip of the rendered benchmark suites and the real clips
in ../shared/data with each setting named, and compares the suggested caption regions with the
first setting's (the product's): the same number of regions, each edge within ``--tolerance``
of the frame. A cheaper setting is of equal layout quality on this evidence only if every clip
agrees; a clip that does not is listed with both region lists. Cost is extract's CPU seconds
(this process's user + system), summed over the clips, and its ratio to the first setting's.
Not a test: the regions are compared, not scored against truth (the suites' truth has no
caption positions; the accuracy benchmarks score what a region change does to captions).

    .venv/bin/python benchmarks/layout_bench.py --build-root /tmp/build \\
        --settings side=608,side=512,side=448,frames=20
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

import tasks.extract as extract_mod  # noqa: E402
from tasks.context import JobContext  # noqa: E402
from tasks.keys import VideoKeys  # noqa: E402
from tasks.ocr.rapid import FRAME_SIDE, RapidOcrEngine  # noqa: E402
from tasks.storage import LocalStorage  # noqa: E402

TENANT = "7d0c6a4e-1b2c-4d3e-8f90-a1b2c3d4e5f6"
VIDEO = "8d9b2f4c-7e6a-4b1d-9c8e-f0e1d2c3b4a5"


def clips(build_root: Path, suites: list[str], shared: Path) -> list[tuple[str, Path]]:
    out = []
    for s in suites:
        for mp4 in sorted((build_root / s).glob("*.mp4")):
            out.append((f"{s}/{mp4.stem}", mp4))
    for mp4 in sorted((shared / "data").glob("*.mp4")) + sorted((shared / "data" / "wild").glob("*.mp4")):
        out.append((f"real/{mp4.stem}", mp4))
    return out


def parse_setting(text: str) -> dict:
    """``side=512`` (the detector's longer side for whole frames) and/or ``frames=20`` (the
    fewest frames a short video's layout reads), joined by ``+``."""
    out = {}
    for part in text.split("+"):
        key, _, value = part.partition("=")
        if key not in ("side", "frames"):
            raise SystemExit(f"unknown setting {part!r}: side=N or frames=N")
        out[key] = int(value)
    return out


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def regions_of(video: Path, setting: dict, engines: dict) -> tuple[list[list[float]], float]:
    side = setting.get("side", FRAME_SIDE)
    if side not in engines:
        engines[side] = RapidOcrEngine(frame_side=side)
    with tempfile.TemporaryDirectory() as d:
        storage = LocalStorage(d)
        keys = VideoKeys(TENANT, VIDEO)
        storage.put_file(keys.video, str(video))
        ctx = JobContext(storage=storage, device_name="cpu", lang="")
        ctx._ocr = engines[side]
        saved = extract_mod.MIN_LAYOUT_FRAMES
        extract_mod.MIN_LAYOUT_FRAMES = setting.get("frames", saved)
        t = cpu_s()
        try:
            res = extract_mod.extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=ctx)
        finally:
            extract_mod.MIN_LAYOUT_FRAMES = saved
        spent = cpu_s() - t
    return [[r["crop_left"], r["crop_top"], r["crop_right"], r["crop_bottom"]] for r in res.regions], spent


def agree(a: list[list[float]], b: list[list[float]], tol: float) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tol for ra, rb in zip(sorted(a), sorted(b))
                                    for x, y in zip(ra, rb))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-root", type=Path, default=REPO / "build", help="rendered suites: ROOT/<suite>/*.mp4")
    ap.add_argument("--suites", default="realworld,redraw,redraw2,redraw3,hard,hard3,fades")
    ap.add_argument("--settings", default="side=608,side=512", help="comma-separated; the first is the reference")
    ap.add_argument("--tolerance", type=float, default=0.02, help="largest edge difference, fraction of the frame")
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("CAPTIONACC_SHARED", REPO.parent / "shared")))
    a = ap.parse_args()
    settings = [s.strip() for s in a.settings.split(",") if s.strip()]
    todo = clips(a.build_root, [s for s in a.suites.split(",") if s], a.shared)
    if not todo:
        raise SystemExit(f"no clips under {a.build_root}: build the suites first (benchmarks/realworld/build.py)")
    engines: dict = {}
    rows, cost = [], {s: 0.0 for s in settings}
    for name, video in todo:
        row = {"clip": name, "regions": {}, "cpu_s": {}}
        for s in settings:
            regions, spent = regions_of(video, parse_setting(s), engines)
            row["regions"][s], row["cpu_s"][s] = regions, round(spent, 3)
            cost[s] += spent
        ref = row["regions"][settings[0]]
        row["agree"] = {s: agree(ref, row["regions"][s], a.tolerance) for s in settings[1:]}
        rows.append(row)
        flags = " ".join(f"{s}:{'=' if ok else 'DIFF'}" for s, ok in row["agree"].items())
        print(f"  {name:40s} {len(ref)} region(s)  {flags}", flush=True)
    print(f"\n{len(rows)} clips; reference {settings[0]}: {cost[settings[0]]:.1f} CPU-s")
    summary = {}
    for s in settings[1:]:
        bad = [r["clip"] for r in rows if not r["agree"][s]]
        ratio = cost[settings[0]] / cost[s] if cost[s] else float("nan")
        summary[s] = {"agree": len(rows) - len(bad), "clips": len(rows), "cpu_s": round(cost[s], 1),
                      "cheaper_x": round(ratio, 2), "differ": bad}
        print(f"{s:20s} agrees on {len(rows) - len(bad)}/{len(rows)}; {cost[s]:.1f} CPU-s ({ratio:.2f}x cheaper)")
        for clip in bad:
            r = next(r for r in rows if r["clip"] == clip)
            print(f"    {clip}: {r['regions'][settings[0]]} vs {r['regions'][s]}")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
    out = HERE / "results" / f"layout_{stamp}.json"
    out.write_text(json.dumps({"when": stamp, "settings": settings, "tolerance": a.tolerance,
                               "cpus": os.cpu_count(), "summary": summary, "clips": rows}, indent=1))
    print(f"record: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
