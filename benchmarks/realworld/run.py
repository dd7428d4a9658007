#!/usr/bin/env python3
"""The realworld caption benchmark, end to end: build the clips, run the product on each, score.

    .venv/bin/python benchmarks/realworld/run.py [--only CLASS] [--out DIR]

1. ``build.py``: renders what is stale into ``build/realworld/`` (libass over the evaluation
   half of the shared footage) and writes each clip's truth JSON.
2. Runs ``captionacc run CLIP --out DIR/<clip> -q`` on each clip, one at a time, timing it, and
   copies its ``captions.srt`` to ``DIR/predictions/<clip>.srt``.
3. Scores each clip with ``../shared/score.py`` and prints a per-clip table, a per-class table
   and a TOTAL (the same totals as ``score.py --all build/realworld DIR/predictions`` when every
   class is run). Classes with no captions (``textrich_nocaption``) score by their extras count.
4. Writes the record to ``benchmarks/results/realworld_<timestamp>.json``.

Not a test: the figures measure the product; the wall times depend on the machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from build import DEFAULT_OUT as BUILD_DIR, SUITES, build, load_manifest  # noqa: E402

from synth.ass import shared_dir  # noqa: E402

SUMS = ("n_gt", "n_pred", "matched", "missed", "extra", "_edits", "_chars", "_on_time", "_per_cer")


def load_scorer():
    path = shared_dir() / "score.py"
    spec = importlib.util.spec_from_file_location("caption_score", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def aggregate(rows: list[dict]) -> dict:
    """Totals over clips, computed as ``score.py --all`` computes its TOTAL row."""
    t = {k: sum(r[k] for r in rows) for k in SUMS}
    n = t["n_gt"]
    return {"clips": len(rows), "n_gt": n, "n_pred": t["n_pred"], "matched": t["matched"], "missed": t["missed"],
            "extra": t["extra"],
            "recall": round(t["matched"] / n, 4) if n else None,
            "boundary_acc": round(t["_on_time"] / n, 4) if n else None,
            "cer": round(t["_edits"] / t["_chars"], 4) if t["_chars"] else (0.0 if n else None),
            "extra_rate": round(t["extra"] / n, 4) if n else None,
            "msr_score": round((t["_per_cer"] + t["missed"] + t["extra"]) / n, 4) if n else float(t["extra"]),
            "wall_s": round(sum(r["wall_s"] for r in rows), 1),
            "video_s": round(sum(r["duration"] for r in rows), 1)}


def pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def num(x, fmt="{:.3f}") -> str:
    return "-" if x is None else fmt.format(x)


def class_table(classes: dict[str, dict], total: dict) -> str:
    head = (f"{'class':20s}{'clips':>6s}{'n_gt':>6s}{'n_pred':>7s}{'matched%':>10s}{'boundary%':>10s}"
            f"{'CER':>7s}{'extra':>6s}{'extra%':>8s}{'msr':>7s}{'wall_s':>8s}")
    lines = [head]
    for name, a in list(classes.items()) + [("TOTAL", total)]:
        if name == "TOTAL":
            lines.append("-" * len(head))
        # No captions in the truth: the only figure is the extras count (msr = extras).
        msr = f"{a['extra']}ex" if a["n_gt"] == 0 else num(a["msr_score"])
        lines.append(f"{name:20s}{a['clips']:6d}{a['n_gt']:6d}{a['n_pred']:7d}{pct(a['recall']):>10s}"
                     f"{pct(a['boundary_acc']):>10s}{num(a['cer']):>7s}{a['extra']:6d}{pct(a['extra_rate']):>8s}"
                     f"{msr:>7s}{a['wall_s']:8.1f}")
    return "\n".join(lines)


def clip_table(rows: list[dict]) -> str:
    head = (f"{'clip':28s}{'video_s':>8s}{'wall_s':>8s}{'x_rt':>6s}{'n_gt':>6s}{'n_pred':>7s}{'match':>6s}"
            f"{'miss':>5s}{'extra':>6s}{'bound':>6s}{'CER':>7s}{'msr':>7s}")
    lines = [head]
    for r in rows:
        lines.append(f"{r['clip'][:27]:28s}{r['duration']:8.1f}{r['wall_s']:8.1f}{r['wall_s'] / r['duration']:6.2f}"
                     f"{r['n_gt']:6d}{r['n_pred']:7d}{r['matched']:6d}{r['missed']:5d}{r['extra']:6d}"
                     f"{r['_on_time']:6d}{r['cer']:7.3f}{r['msr_score']:7.3f}"
                     + ("" if r["status"] == "ok" else f"  ({r['status']}, rc {r['rc']})"))
    return "\n".join(lines)


def captionacc_binary() -> str:
    for candidate in (Path(sys.executable).parent / "captionacc", ROOT / ".venv" / "bin" / "captionacc"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("captionacc")
    if not found:
        raise SystemExit("captionacc not found: install the project (make install)")
    return found


def git_commit() -> tuple[str, bool]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip())
        return commit, dirty
    except OSError:
        return "", False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", metavar="CLASS[,CLIP...]", help="only these classes and/or clips (comma-separated)")
    ap.add_argument("--out", type=Path, help="product outputs and predictions "
                    "(default build/realworld-runs/<timestamp>)")
    ap.add_argument("--build-dir", type=Path, help=f"rendered clips (default {BUILD_DIR}, or build/<suite>)")
    ap.add_argument("--suite", choices=sorted(SUITES), default="realworld",
                    help="realworld (layouts; default) or languages (scripts: Cyrillic, Hangul, Vietnamese, ...)")
    ap.add_argument("--lang", default="clip", help="what to pass as captionacc's --lang: clip (each clip's own "
                    "language from clips.json; none for realworld clips), auto, none (no flag: the product's default), "
                    "or a code for every clip")
    ap.add_argument("--product-src", type=Path, help="run the product from this source tree instead of the "
                    "installed one (e.g. a `git archive` of another commit; the venv's packages are reused)")
    a = ap.parse_args()
    stamp = time.strftime("%Y%m%dT%H%M%S")
    out = (a.out or ROOT / "build" / f"{a.suite}-runs" / stamp).resolve()
    build_dir = (a.build_dir or (BUILD_DIR if a.suite == "realworld" else ROOT / "build" / a.suite)).resolve()
    preds, logs = out / "predictions", out / "logs"
    preds.mkdir(parents=True, exist_ok=True)
    logs.mkdir(exist_ok=True)
    scorer = load_scorer()
    exe = captionacc_binary()
    env, product_cwd = None, ROOT
    if a.product_src:  # imports resolve from the working directory's PYTHONPATH before the editable install
        product_cwd = a.product_src.resolve()
        env = {**os.environ, "PYTHONPATH": str(product_cwd)}
    t_start = time.perf_counter()

    clips = build(load_manifest(a.only, a.suite), build_dir)
    build_s = time.perf_counter() - t_start
    print(f"built {len(clips)} clips in {build_s:.1f} s; running {exe}", flush=True)

    rows = []
    for clip in clips:
        name, clip_out = clip["name"], out / clip["name"]
        if clip_out.exists():
            shutil.rmtree(clip_out)
        cmd = [exe, "run", clip["video"], "--out", str(clip_out), "-q"]
        lang = clip.get("lang") if a.lang == "clip" else (None if a.lang == "none" else a.lang)
        if lang:
            cmd += ["--lang", lang]
        t0 = time.perf_counter()
        with open(logs / f"{name}.log", "w") as log:
            rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=product_cwd, env=env).returncode
        wall = time.perf_counter() - t0
        srt = clip_out / "captions.srt"
        if rc == 0 and srt.exists():
            status = "ok"
            shutil.copyfile(srt, preds / f"{name}.srt")
        elif "no captions found" in (logs / f"{name}.log").read_text(errors="replace"):
            status = "none found"  # the CLI exits 3 when it finds no caption: an empty prediction
            (preds / f"{name}.srt").write_text("", encoding="utf-8")
        else:
            status = "failed"
            print(f"  {name}: captionacc failed (rc {rc}); see {logs / (name + '.log')}", flush=True)
        r = scorer.score_files(clip["truth"], preds / f"{name}.srt")
        rows.append({"clip": name, "class": clip["class"], "lang": lang, "footage": clip["footage"],
                     "duration": clip["duration"],
                     "wall_s": round(wall, 2), "rc": rc, "status": status, **r})
        print(f"  {name:28s} {wall:6.1f} s  gt {r['n_gt']:2d}  pred {r['n_pred']:2d}  matched {r['matched']:2d}  "
              f"extra {r['extra']:2d}", flush=True)
    total_s = time.perf_counter() - t_start

    classes: dict[str, dict] = {}
    for cls in dict.fromkeys(r["class"] for r in rows):
        classes[cls] = aggregate([r for r in rows if r["class"] == cls])
    total = aggregate(rows)
    print()
    print(clip_table(rows))
    print()
    print(class_table(classes, total))
    print(f"\nwall time: {total_s:.1f} s in all (build {build_s:.1f} s, product {total['wall_s']:.1f} s "
          f"for {total['video_s']:.1f} s of video)")

    commit, dirty = git_commit()
    record = {
        "when": datetime.now(timezone.utc).isoformat(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "python": platform.python_version(), "commit": commit, "dirty": dirty,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "suite": a.suite, "lang": a.lang,
        "only": a.only, "out": str(out),
        "product_src": str(product_cwd),
        "build_s": round(build_s, 1), "total_s": round(total_s, 1),
        "clips": [{k: v for k, v in r.items() if not k.startswith("_")} | {"on_time": r["_on_time"]} for r in rows],
        "classes": classes, "total": total,
    }
    # benchmarks/results holds whole-suite records only: a run of some classes or clips keeps its
    # record beside its predictions, where no one takes its TOTAL for the suite's.
    results = out if a.only else ROOT / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"{a.suite}_{stamp}{'_only' if a.only else ''}.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"record: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}\npredictions: {preds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
