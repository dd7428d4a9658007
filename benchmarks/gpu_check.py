"""GPU check: one command that measures what a GPU node gives us, in under 8 minutes.

    .venv/bin/python benchmarks/gpu_check.py                     # CUDA, the 10-min 720p bench clip
    .venv/bin/python benchmarks/gpu_check.py --cpu-srt REF.srt   # also compare captions with a CPU run's
    .venv/bin/python benchmarks/gpu_check.py --device cpu --minutes 0.2   # the same steps on a CPU

Steps, each timed and each allowed to fail on its own (its error is recorded, the rest still run):
  1. device: name, memory, CUDA and torch versions;
  2. decode: frames/s of the clip in software and with NVDEC (``hwaccel=cuda``);
  3. model: pairs/s of the extents model, fp32 and fp16 (autocast), batch 256 and 1024 frames;
  4. vp9: chunked VP9 encoding fps of 1280x188 bands (libvpx runs on the CPU either way);
  5. pipeline: the whole pipeline on the clip on this device: wall time, stage times, score
     against the clip's truth, and the captions compared with a CPU run's SRT (``--cpu-srt``) or,
     with ``--with-cpu``, with a CPU run made here;
  6. cost: GPU-hours per video hour from step 5, priced at the dispatcher's T4/A10G rates (Modal
     and self-hosted). The GPU measured is named in the record: a faster card than a T4 makes
     the T4 figure a lower bound.
The record goes to benchmarks/results/gpu_check_<time>.json; the table to stdout.
On the device tool's GPU machine, which lacks PyAV, RapidOCR and pydantic and reaches no package
index, `benchmarks/gpu_carry.sh` prepares two carries and prints the two commands to run.
"""

from __future__ import annotations

import argparse
import datetime
from contextlib import nullcontext
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

TENANT = "7d0c6a4e-1b2c-4d3e-8f90-a1b2c3d4e5f6"
VIDEO = "8d9b2f4c-7e6a-4b1d-9c8e-f0e1d2c3b4a5"


STEPS = ("device", "decode", "model", "vp9", "pipeline")


def step(record: dict, name: str, fn) -> None:
    t = time.perf_counter()
    try:
        record[name] = fn()
    except Exception as e:  # noqa: BLE001 - one failed step must not hide the others' figures
        record[name] = {"error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-2000:]}
    record[name]["step_s"] = round(time.perf_counter() - t, 1)
    shown = {k: v for k, v in record[name].items() if k != "trace"}
    print(f"{name:<10}{json.dumps(shown, ensure_ascii=False)}", flush=True)


def device_info(device: str) -> dict:
    import torch

    out = {"torch": torch.__version__, "device": device}
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError("CUDA is not available to torch (no GPU, or no driver)")
        p = torch.cuda.get_device_properties(0)
        out.update(name=p.name, memory_gib=round(p.total_memory / 2**30, 1), cuda=torch.version.cuda,
                   capability=f"{p.major}.{p.minor}", count=torch.cuda.device_count())
    else:
        out.update(name=platform.processor() or platform.machine(), cpus=os.cpu_count())
    return out


def decode_fps(video: str, device: str) -> dict:
    import av

    from gpu_kernels.video import _hw_open

    def count(container) -> tuple[int, float]:
        s = container.streams.video[0]
        s.thread_type = "AUTO"
        t = time.perf_counter()
        n = sum(1 for _ in container.decode(s))
        return n, time.perf_counter() - t

    with av.open(video) as c:
        n, sw = count(c)
    out = {"frames": n, "software_fps": round(n / sw, 1), "software_s": round(sw, 2)}
    if device.startswith("cuda"):
        c = _hw_open(video, "cuda")
        if c is None:
            out["nvdec"] = "unavailable (FFmpeg has no CUDA device here)"
        else:
            with c:
                n2, hw = count(c)
            out.update(nvdec_fps=round(n2 / hw, 1), nvdec_s=round(hw, 2))
    return out


def model_speed(device: str, batches: list[int], reps: int) -> dict:
    import numpy as np
    import torch

    from gpu_kernels.extents import get_predictor

    dev = torch.device(device)
    p = get_predictor("learned", dev)
    rng = np.random.default_rng(0)
    out = {"model": f"{p.name}-{getattr(p, 'version', '?')}"}
    for batch in batches:
        frames = rng.integers(0, 255, size=(batch + 1, 140, 1280, 3), dtype=np.uint8)
        p.batch_frames = batch + 1
        for precision in ("fp32", "fp16"):
            if precision == "fp16" and dev.type != "cuda":
                out[f"{precision}_b{batch}"] = "n/a on cpu"
                continue
            ctx = torch.autocast("cuda", dtype=torch.float16) if precision == "fp16" else nullcontext()
            with ctx:
                p.predict(frames[:33])  # warm-up: kernels chosen, memory allocated
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                t = time.perf_counter()
                for _ in range(reps):
                    p.predict(frames)
                if dev.type == "cuda":
                    torch.cuda.synchronize()
            out[f"{precision}_b{batch}"] = round(reps * batch / (time.perf_counter() - t), 1)
    if dev.type == "cuda":
        out["peak_gpu_mem_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return out


def vp9_fps(video: str, frames: int) -> dict:
    from pipeline_bench import vp9_speed

    return {"fps": vp9_speed(video, frames), "frames": frames}


def pipeline(video: str, truth: str, device: str, work: str, scorer: str | None = None) -> dict:
    from pipeline_bench import score

    from tasks.context import JobContext
    from tasks.keys import VideoKeys
    from tasks.pipeline import run_video
    from tasks.storage import LocalStorage

    storage = LocalStorage(work)
    keys = VideoKeys(TENANT, VIDEO)
    os.makedirs(os.path.dirname(storage.path(keys.video)), exist_ok=True)
    shutil.copy(video, storage.path(keys.video))
    # The bench clip's captions are Chinese and English: the default recogniser, named, so no
    # language detection runs (it needs Tesseract, which a GPU machine may lack).
    ctx = JobContext(storage=storage, device_name=device, lang="zh")
    t = time.perf_counter()
    model = ctx.predictor.model_version
    ctx.ocr
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    r = run_video(keys.video, TENANT, VIDEO, None, ctx=ctx)
    wall = time.perf_counter() - t
    srt = os.path.join(work, f"captions_{device.replace(':', '_')}.srt")
    with open(srt, "wb") as f:
        f.write(storage.get_bytes(keys.captions_srt))
    return {"wall_s": round(wall, 1), "load_s": round(load_s, 1), "video_s": round(r.duration, 1),
            "realtime_x": round(r.duration / wall, 1), "captions": len(r.captions), "model": model,
            "stages_s": {k: round(v, 1) for k, v in r.timings.items()},
            "score": score(truth, srt, scorer) if truth else {}, "srt": srt}


def same_captions(srt: str, reference: str) -> dict:
    def cues(path: str) -> list[str]:
        with open(path, encoding="utf-8") as f:
            return [b.strip() for b in f.read().strip().split("\n\n") if b.strip()]

    a, b = cues(srt), cues(reference)
    texts = lambda cs: [c.split("\n", 2)[2] if c.count("\n") >= 2 else "" for c in cs]  # noqa: E731
    return {"cues": len(a), "reference_cues": len(b), "identical": a == b,
            "same_texts": texts(a) == texts(b), "reference": reference}


def cost(run: dict, device_name: str) -> dict:
    from workers.dispatch_policy import Prices

    prices = Prices.from_env()
    gpu_h = run["wall_s"] / run["video_s"]  # GPU-hours per video hour
    out = {"measured_on": device_name, "gpu_hours_per_video_hour": round(gpu_h, 3)}
    for gpu in ("t4", "a10g"):
        out[f"modal_{gpu}_usd_per_video_hour"] = round(gpu_h * prices.modal_usd_per_hour[gpu], 3)
        out[f"self_hosted_{gpu}_usd_per_video_hour"] = round(gpu_h * prices.self_hosted_usd_per_hour[gpu], 3)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the generated 720p bench clip")
    ap.add_argument("--batches", default="256,1024", help="model batch sizes (frames)")
    ap.add_argument("--reps", type=int, default=4)
    ap.add_argument("--vp9-frames", type=int, default=600, help="bands encoded for the VP9 figure")
    ap.add_argument("--cpu-srt", help="a CPU run's captions.srt of the same clip, to compare with")
    ap.add_argument("--with-cpu", action="store_true", help="make that CPU run here (adds minutes)")
    ap.add_argument("--out", help="record path (default benchmarks/results/gpu_check_<time>.json)")
    ap.add_argument("--steps", default=",".join(STEPS),
                    help="which steps to run (comma-separated); a machine that cannot hold every package at "
                         "once runs them in two calls (benchmarks/gpu_carry.sh)")
    ap.add_argument("--clip", help="an existing clip instead of the generated one (with --truth for its score)")
    ap.add_argument("--truth", help="the clip's truth JSON (synth format)")
    ap.add_argument("--scorer", help="score.py to use (default ../shared/score.py, which a GPU machine lacks)")
    a = ap.parse_args(argv)

    from pipeline_bench import make, save_record

    t0 = time.perf_counter()
    record: dict = {"when": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                             text=True, cwd=REPO).stdout.strip(),
                    "cpus": os.cpu_count(), "minutes": a.minutes}
    steps = set(a.steps.split(","))
    unknown = steps - set(STEPS)
    if unknown:
        ap.error(f"unknown steps {sorted(unknown)}; known: {', '.join(STEPS)}")
    video, truth = (a.clip, a.truth) if a.clip else make("720p", a.minutes)
    record["clip"] = os.path.basename(video)
    record["steps"] = sorted(steps, key=STEPS.index)
    work = tempfile.mkdtemp(prefix="captionacc-gpu-check-")
    try:
        if "device" in steps:
            step(record, "device", lambda: device_info(a.device))
        if "decode" in steps:
            step(record, "decode", lambda: decode_fps(video, a.device))
        if "model" in steps:
            step(record, "model", lambda: model_speed(a.device, [int(b) for b in a.batches.split(",")], a.reps))
        if "vp9" in steps:
            step(record, "vp9", lambda: vp9_fps(video, a.vp9_frames))
        if "pipeline" in steps:
            step(record, "pipeline", lambda: pipeline(video, truth, a.device, os.path.join(work, "gpu"), a.scorer))
            reference = a.cpu_srt
            if a.with_cpu and not reference and "error" not in record["pipeline"]:
                step(record, "cpu_pipeline", lambda: pipeline(video, truth, "cpu", os.path.join(work, "cpu"), a.scorer))
                reference = record["cpu_pipeline"].get("srt")
            if reference and "srt" in record["pipeline"]:
                step(record, "captions", lambda: same_captions(record["pipeline"]["srt"], reference))
            if "wall_s" in record["pipeline"]:
                name = record.get("device", {}).get("name", a.device)
                step(record, "cost", lambda: cost(record["pipeline"], name))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record["total_s"] = round(time.perf_counter() - t0, 1)
    out = save_record("gpu_check", record, a.out)
    failed = [k for k, v in record.items() if isinstance(v, dict) and "error" in v]
    print(f"total {record['total_s']} s; failed steps: {failed or 'none'}; record: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
