"""Train the caption-extents model from a seed, on synthetic caption strips, on a CPU.

    python -m training.train --out build/extents_v1.pt --metrics build/METRICS

Reads top to bottom: defaults, data, model, loop, evaluation. The same seed gives the same data
(every sequence has its own seed, so the worker count does not matter; the log prints its
sha256) and, on the same machine, torch build and thread count, the same weights. The
checkpoint kept is the late one that decodes whole validation clips best (``select.py``).
Writes the checkpoint, ``<metrics>.json`` and ``<metrics>.md`` (per-class precision/recall and
confusion matrices on a validation set drawn like the training data and on a held-aside set with
fonts and footage training never sees, beside the classical detector on the same pairs).
A share of the training sequences (``--libass-share``) has libass captions over the first
halves of ../shared/footage (``libass_seqs.py``; clips cached in build/libass_cache).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F

from gpu_kernels.extents.base import BACKWARD_OF, CLASSES
from gpu_kernels.extents.learned import ExtentsNet, ExtentsNetConfig, resize_frames, save_checkpoint, to_input

from . import metrics
from .libass_seqs import SEQS_PER_BLOCK, block_of, block_sequences
from .pool import render_map
from .select import describe, evaluate, make_selection_clips
from .sequences import make_sequence, pair_label, pair_labels

# ---------------------------------------------------------------------------------------------
# defaults
SEED = 1234
TRAIN_SEQS = 6400  # sequences of SEQ_LEN frames at 10 Hz
VAL_SEQS = 200
HELDOUT_SEQS = 400
SEQ_LEN = 16
STEPS = 8000
SEQS_PER_STEP = 12  # whole sequences per step: all their consecutive pairs, in one encoder pass
BATCH = 32  # plus this many class-balanced pairs (consecutive or two apart) per step
LR = 4e-3
WEIGHT_DECAY = 1e-4
LABEL_SMOOTHING = 0.03
WORKERS = 2
SELECT_CLIPS = 16  # 20-s clips (~110 captions) that pick the checkpoint, see select.py
SELECT_FROM = 0.6  # checkpoints scored from this fraction of the steps on ...
SELECT_EVERY = 400  # ... every this many steps, and the last one
EMA_DECAY = 0.998  # scored and kept: an average of the last ~500 steps' weights, less noisy
# Share of the training sequences (not validation, held-aside or selection: their figures stay
# comparable) whose captions libass draws over the first halves of ../shared/footage
# (libass_seqs.py); 0 is the v7 recipe exactly.
LIBASS_SHARE = 0.25

# Seed ranges keep the sets disjoint whatever their sizes.
TRAIN_BASE, LIBASS_BASE, VAL_BASE, SELECT_BASE, HELDOUT_BASE = 0, 30_000_000, 50_000_000, 70_000_000, 90_000_000


def _render(job: tuple[int, str, int, int, int, bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One sequence → (T, h, w, 3) uint8 model-size frames, caption ids, classical argmax."""
    seed, split, length, height, width, classical = job
    seq = make_sequence(seed, split, length)
    small = resize_frames(seq.frames, height, width).permute(0, 2, 3, 1).contiguous().numpy()
    base = None
    if classical:
        from gpu_kernels.extents.classical import ClassicalChangeDetector

        p = ClassicalChangeDetector().predict(seq.frames)
        base = np.argmax(0.5 * (p.forward + p.backward[:, BACKWARD_OF]), axis=1)
    return small, seq.ids, base


def build_set(split: str, base: int, count: int, cfg: ExtentsNetConfig, workers: int,
              classical: bool = False) -> dict:
    jobs = [(base + i, split, SEQ_LEN, cfg.height, cfg.width, classical) for i in range(count)]
    out = render_map(_render, jobs, workers, chunksize=8)
    frames = np.concatenate([o[0] for o in out])  # (S·T, h, w, 3) uint8
    ids = np.stack([o[1] for o in out])  # (S, T)
    result = {"frames": frames, "ids": ids}
    if classical:
        result["classical"] = np.concatenate([o[2] for o in out])  # (S·(T-1),)
    return result


def _render_libass(job: tuple[int, str, int, int, int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The first ``take`` sequences of one libass block → [(model-size frames, caption ids)]."""
    seed, footage, take, height, width = job
    out = []
    for seq in block_sequences(seed, footage):
        out.append((resize_frames(seq.frames, height, width).permute(0, 2, 3, 1).contiguous().numpy(), seq.ids))
        if len(out) == take:
            break
    return out


def add_libass(data: dict, base: int, count: int, cfg: ExtentsNetConfig, workers: int) -> dict:
    """``data`` with ``count`` libass sequences appended (whole blocks, one job each)."""
    blocks = -(-count // SEQS_PER_BLOCK)
    jobs = [(*block_of(b, base), min(SEQS_PER_BLOCK, count - b * SEQS_PER_BLOCK), cfg.height, cfg.width)
            for b in range(blocks)]
    out = [s for block in render_map(_render_libass, jobs, workers) for s in block]
    return {"frames": np.concatenate([data["frames"], *(o[0] for o in out)]),
            "ids": np.concatenate([data["ids"], np.stack([o[1] for o in out])])}


def pair_index(ids: np.ndarray, max_gap: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (i, i+g) within each sequence for g ≤ max_gap → frame indices a, b and labels."""
    s, t = ids.shape
    a, b, y = [], [], []
    for k in range(s):
        for g in range(1, max_gap + 1):
            for i in range(t - g):
                a.append(k * t + i)
                b.append(k * t + i + g)
                y.append(pair_label(int(ids[k, i]), int(ids[k, i + g])))
    return np.array(a), np.array(b), np.array(y, dtype=np.int64)


def sequence_batch(frames: np.ndarray, ids: np.ndarray, pick: np.ndarray, rng: np.random.Generator):
    """Whole sequences → (S·T, 3, h, w) input, (S·(T-1),) labels and their positions in the
    model's (S·T-1) consecutive-pair output (pairs across two sequences are skipped)."""
    s, t = len(pick), ids.shape[1]
    idx = (pick[:, None] * t + np.arange(t)).ravel()
    x = to_input(torch.from_numpy(frames[idx])).view(s, t, *frames.shape[1:])  # (S, T, h, w, 3)
    flip = torch.from_numpy(rng.random(s) < 0.5)
    x[flip] = x[flip].flip(-2)  # mirror the width
    gain = torch.from_numpy(rng.uniform(0.8, 1.2, (s, 1, 1, 1, 1)).astype(np.float32))
    shift = torch.from_numpy(rng.uniform(-0.15, 0.15, (s, 1, 1, 1, 1)).astype(np.float32))
    jitter = torch.from_numpy(rng.normal(0, 0.02, (s, t, 1, 1, 1)).astype(np.float32))  # flicker
    x = (x * (gain + jitter) + shift).flatten(0, 1).permute(0, 3, 1, 2)  # (S·T, 3, h, w)
    x = x.contiguous(memory_format=torch.channels_last)
    y = np.concatenate([pair_labels(ids[k]) for k in pick])
    pos = np.array([k * t + i for k in range(s) for i in range(t - 1)])
    return x, torch.from_numpy(y), torch.from_numpy(pos)


def batch_tensors(frames: np.ndarray, a: np.ndarray, b: np.ndarray, rng: np.random.Generator | None):
    """Frames → model inputs (P, 3, h, w) float; with rng, augmented identically within a pair."""
    xa = torch.from_numpy(frames[a]).permute(0, 3, 1, 2)  # (P, 3, h, w) uint8 channels-last view
    xb = torch.from_numpy(frames[b]).permute(0, 3, 1, 2)
    xa, xb = to_input(xa), to_input(xb)
    if rng is not None:
        p = xa.shape[0]
        flip = torch.from_numpy(rng.random(p) < 0.5)
        xa[flip], xb[flip] = xa[flip].flip(-1), xb[flip].flip(-1)  # mirrored text is still text
        gain = torch.from_numpy(rng.uniform(0.8, 1.2, (p, 1, 1, 1)).astype(np.float32))
        shift = torch.from_numpy(rng.uniform(-0.15, 0.15, (p, 1, 1, 1)).astype(np.float32))
        jitter = torch.from_numpy(rng.normal(0, 0.02, (p, 1, 1, 1)).astype(np.float32))  # flicker
        xa = xa * gain + shift
        xb = xb * (gain + jitter) + shift
    return (xa.contiguous(memory_format=torch.channels_last), xb.contiguous(memory_format=torch.channels_last))


@torch.no_grad()
def predict_sequences(model: ExtentsNet, frames: np.ndarray, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive-pair predictions per sequence, as production runs them → (P,) fwd/bwd argmax."""
    model.eval()
    fwd, comb = [], []
    for s in range(0, len(frames), seq_len * 32):
        chunk = frames[s : s + seq_len * 32]
        x = to_input(torch.from_numpy(chunk).permute(0, 3, 1, 2)).contiguous(memory_format=torch.channels_last)
        lf, lb = model(x)
        pf, pb = torch.softmax(lf, 1), torch.softmax(lb, 1)[:, torch.from_numpy(BACKWARD_OF)]
        keep = np.array([(i + 1) % seq_len != 0 for i in range(len(chunk) - 1)])  # not across sequences
        fwd.append(pf.argmax(1).numpy()[keep])
        comb.append((0.5 * (pf + pb)).argmax(1).numpy()[keep])
    return np.concatenate(fwd), np.concatenate(comb)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="checkpoint path, e.g. gpu_kernels/weights/extents_v1.pt")
    ap.add_argument("--metrics", default="training/METRICS", help="metrics path without extension")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--train-seqs", type=int, default=TRAIN_SEQS)
    ap.add_argument("--val-seqs", type=int, default=VAL_SEQS)
    ap.add_argument("--heldout-seqs", type=int, default=HELDOUT_SEQS)
    ap.add_argument("--select-clips", type=int, default=SELECT_CLIPS,
                    help="whole clips scoring late checkpoints; 0 keeps the last one")
    ap.add_argument("--libass-share", type=float, default=LIBASS_SHARE,
                    help="share of training sequences with libass captions over real footage; 0 = the v7 recipe")
    ap.add_argument("--lr", type=float, default=LR)
    ap.add_argument("--workers", type=int, default=WORKERS)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if not 0 <= args.libass_share <= 1:
        ap.error("--libass-share must lie in [0, 1]")

    # setup
    t0 = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    cfg = ExtentsNetConfig()
    base = args.seed * 100_000_000 % 1_000_000_000  # a new seed draws new sequences

    # data
    n_libass = int(round(args.libass_share * args.train_seqs))
    train = build_set("train", base + TRAIN_BASE, args.train_seqs - n_libass, cfg, args.workers)
    t_libass = time.time()
    if n_libass:
        train = add_libass(train, base + LIBASS_BASE, n_libass, cfg, args.workers)
    t_libass = time.time() - t_libass
    val = build_set("train", base + VAL_BASE, args.val_seqs, cfg, args.workers)
    held = build_set("heldout", base + HELDOUT_BASE, args.heldout_seqs, cfg, args.workers, classical=True)
    select = make_selection_clips(base + SELECT_BASE, args.select_clips, args.workers)
    t_data = time.time() - t0
    a, b, y = pair_index(train["ids"], max_gap=2)
    freq = np.bincount(y, minlength=len(CLASSES)).astype(np.float64)
    # Transitions are rare in real timelines; sample them more, but not to parity, so the
    # probabilities keep some of the prior the decoder relies on.
    w = (freq.max() / np.maximum(freq, 1)) ** 0.6
    p = w[y] / w[y].sum()
    # Fingerprint of everything rendered: two runs of one seed must print the same.
    digest = hashlib.sha256()
    for arr in (train["frames"], train["ids"], val["frames"], held["frames"], *(c.frames for c in select)):
        digest.update(np.ascontiguousarray(arr).tobytes())
    data_sha = digest.hexdigest()[:16]
    print(f"data: {len(train['frames'])} train frames ({n_libass} libass sequences, {t_libass:.0f} s), "
          f"{len(y)} pairs {freq.astype(int).tolist()}, {t_data:.0f} s, sha256 {data_sha}", flush=True)

    # model
    model = ExtentsNet(cfg).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=WEIGHT_DECAY)
    warm = max(1, args.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps))))
    back = torch.from_numpy(BACKWARD_OF)
    # Exponential moving average of the weights (and BatchNorm statistics): single checkpoints
    # of one recipe decoded whole clips very differently (EXPERIMENTS.md, v4 vs v4r).
    ema = torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(EMA_DECAY), use_buffers=True)

    # Loss weights for sequence pairs: rare transitions count more, again not to parity.
    cw = torch.from_numpy((freq.max() / np.maximum(freq, 1)) ** 0.5).float()

    def ce(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
        per = F.cross_entropy(logits, target, label_smoothing=LABEL_SMOOTHING, reduction="none")
        return per.mean() if weight is None else (per * weight).sum() / weight.sum()

    # loop: each step sees SEQS_PER_STEP whole sequences (every consecutive pair, the true
    # class mix, one cheap encoder pass) plus BATCH class-balanced pairs (rare classes, gaps of 2)
    model.train()
    t1 = time.time()
    best: tuple[float, int, dict] | None = None  # (score, step, state_dict)
    selection: list[dict] = []
    for step in range(args.steps):
        pick = rng.choice(len(train["ids"]), size=SEQS_PER_STEP, replace=False)
        xs, ys, pos = sequence_batch(train["frames"], train["ids"], pick, rng)
        sf, sb = model(xs)  # (S·T-1, 5) each
        sf, sb = sf[pos], sb[pos]
        idx = rng.choice(len(y), size=BATCH, p=p)
        xa, xb = batch_tensors(train["frames"], a[idx], b[idx], rng)
        yt = torch.from_numpy(y[idx])
        lf, lb = model.forward_pairs(xa, xb)
        loss = (ce(sf, ys, cw[ys]) + ce(sb, back[ys], cw[ys])
                + ce(lf, yt) + ce(lb, back[yt]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        ema.update_parameters(model)
        if step % 200 == 0 or step == args.steps - 1:
            acc = (lf.argmax(1) == yt).float().mean().item()
            print(f"step {step:5d} loss {loss.item():.4f} acc {acc:.3f} lr {sched.get_last_lr()[0]:.5f} "
                  f"{time.time() - t1:.0f} s", flush=True)
        done = step + 1
        if select and done >= SELECT_FROM * args.steps and (done % SELECT_EVERY == 0 or done == args.steps):
            # Scoring reads the model only (no RNG draws), so the training run is the same with
            # or without it; ties go to the later checkpoint.
            r = evaluate(ema.module, select)
            selection.append({"step": done, **r})
            print(f"select step {done}: {describe(r)}", flush=True)
            if best is None or r["score"] >= best[0]:
                best = (r["score"], done, copy.deepcopy(ema.module.state_dict()))
    t_train = time.time() - t1
    model.load_state_dict(best[2] if best is not None else ema.module.state_dict())
    if best is not None:
        print(f"kept the averaged weights of step {best[1]} (selection score {best[0]})", flush=True)

    # evaluation: consecutive pairs only, read both ways, as production reads them
    report = {"seed": args.seed, "steps": args.steps, "data_sha256": data_sha,
              "kept_step": best[1] if best else args.steps, "selection": selection,
              "libass_share": args.libass_share, "libass_seqs": n_libass, "libass_seconds": round(t_libass),
              "ema_decay": EMA_DECAY, "batch_pairs": BATCH, "batch_seqs": SEQS_PER_STEP, "train_pairs": int(len(y)),
              "data_seconds": round(t_data), "train_seconds": round(t_train),
              "params": sum(q.numel() for q in model.parameters()),
              "torch": torch.__version__, "machine": platform.machine(), "config": cfg.__dict__}
    md = [f"# Caption-extents model metrics\n", f"`python -m training.train --out {args.out} --seed {args.seed}` "
          f"— {report['params']} parameters, {args.steps} steps × ({SEQS_PER_STEP} sequences + {BATCH} pairs), data {t_data:.0f} s, "
          f"training {t_train:.0f} s on {args.threads} CPU threads (torch {torch.__version__}); "
          f"data sha256 {data_sha}; {n_libass} of {args.train_seqs} training sequences libass over real footage "
          f"(`--libass-share {args.libass_share}`).\n",
          "Pairs are consecutive 10 Hz frames of synthetic sequences; `fwd` is the forward reading "
          "alone, `fwd+bwd` averages it with the backward reading mapped to forward labels.\n"]
    for name, data in (("validation (training fonts/footage, unseen seeds)", val),
                       ("held-aside (fonts and footage never used in training)", held)):
        yt = np.concatenate([pair_labels(ids) for ids in data["ids"]])
        pf, pc = predict_sequences(model, data["frames"], SEQ_LEN)
        key = "val" if name.startswith("validation") else "heldout"
        report[key] = {"learned_fwd": metrics.summary(yt, pf), "learned": metrics.summary(yt, pc)}
        md.append(f"## {name}\n")
        md.append(metrics.markdown("learned, fwd+bwd", report[key]["learned"]))
        md.append(metrics.markdown("learned, fwd only", report[key]["learned_fwd"]))
        if "classical" in data:
            report[key]["classical"] = metrics.summary(yt, data["classical"])
            md.append(metrics.markdown("classical (ClassicalChangeDetector), same pairs", report[key]["classical"]))
        print(f"{key}: learned acc {report[key]['learned']['accuracy']}"
              + (f" classical acc {report[key]['classical']['accuracy']}" if "classical" in report[key] else ""),
              flush=True)

    if selection:
        md.append(f"## checkpoint selection ({len(select)} whole 20-s clips, training fonts/footage, own seeds)\n")
        md.append("| step | captions | matched | both boundaries ≤ 0.1 s | extra | score |\n|---|---|---|---|---|---|")
        md += [f"| {r['step']}{' (kept)' if r['step'] == report['kept_step'] else ''} | {r['captions']} | "
               f"{r['matched_rate']} | {r['exact_rate']} | {r['extra_rate']} | {r['score']} |" for r in selection]
        md.append("")
    save_checkpoint(model, args.out, meta={k: report[k] for k in ("seed", "steps", "kept_step", "train_pairs")})
    with open(args.metrics + ".json", "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    with open(args.metrics + ".md", "w", encoding="utf-8") as f:
        f.write("\n".join(md))
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes), {args.metrics}.md/.json; "
          f"total {time.time() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
