"""Soak: N short generated videos submitted at once through the dispatcher to local Celery workers.

    .venv/bin/python benchmarks/soak.py                 # 50 videos, a T4 and an A10G worker
    .venv/bin/python benchmarks/soak.py --videos 8      # a quick run
    .venv/bin/python benchmarks/soak.py --json out.json

Everything is real and local: redis-server, two ``captionacc worker`` processes (prefork,
concurrency 1, CPU), a LocalStorage bucket they share, the real jobs. Per video the chain is the
production one: ``extract_frames_and_ocr`` (T4 queue) → ``crop_and_infer_caption_frame_extents``
(A10G queue) → ``generate_caption_ocr_batch`` over the captions the extents decoder finds, in
the flows' batches (T4 queue; ``--caption-jobs one``: ``generate_caption_ocr`` per caption, the
seed's way), each job sent through ``Dispatcher.dispatch`` from its own thread, all N chains at once.

Reports throughput, queue depth over time, p50/p95 latency per job and per video, and checks
that every job ran exactly once (one ``succeeded`` line per task id in the worker logs, one
cropped-frames version per video) and that every output is whole (manifest + every chunk
decodes, databases open, frame counts agree). Exit status 1 when any check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TENANT = "33333333-3333-4333-8333-333333333333"
WORDS = ["hello", "world", "caption", "soak", "test", "video", "frame", "queue", "worker", "redis"]
CROP = {"crop_left": 0.0, "crop_top": 0.6, "crop_right": 1.0, "crop_bottom": 1.0}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def make_videos(n: int, d: str, seconds: float) -> list[tuple[str, str]]:
    """(video_id, path) of ``n`` distinct short clips with two captions each."""
    from synth.clip import make_clip

    out = []
    for i in range(n):
        caps = [(0.5, 1.8, f"{WORDS[i % 10]} {i}"), (2.2, seconds - 0.4, f"{WORDS[(i + 3) % 10]} {i + 1}")]
        path = os.path.join(d, f"v{i:03d}.mp4")
        make_clip(path, caps, duration=seconds, width=320, height=180, background="synthetic", seed=i)
        out.append((str(uuid.uuid5(uuid.NAMESPACE_URL, f"soak:{i}")), path))
    return out


class DepthSampler(threading.Thread):
    def __init__(self, dispatcher, queues: list[str], every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.dispatcher, self.queues, self.every = dispatcher, queues, every
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.stop_flag = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            try:
                depth = {q: self.dispatcher._waiting(q) for q in self.queues}
            except Exception:  # noqa: BLE001 - a missed sample is fine
                depth = {}
            self.samples.append((round(time.monotonic() - self.t0, 2), depth))
            self.stop_flag.wait(self.every)


def verify_outputs(storage, video: str, res: dict) -> list[str]:
    """Problems with one video's outputs ([] when whole)."""
    from tasks.chunks import ChunkReader
    from tasks.crop_infer import load_predictions
    from tasks.databases import open_db
    from tasks.keys import VideoKeys

    keys = VideoKeys(TENANT, video)
    problems = []
    versions = {int(m.group(1)) for k in storage.list(keys.client)
                if (m := re.search(r"/cropped_frames_v(\d+)/", k))}
    if versions != {1}:
        problems.append(f"cropped-frames versions {sorted(versions)} (a job ran twice or not at all)")
    try:
        with ChunkReader(storage, keys.cropped_frames(1)) as r:
            n = r.frame_count
            idx, _ = r.frames(0, n, want=n)
            if idx != list(range(n)):
                problems.append("chunks miss frames")
        with open_db(storage, keys.caption_frame_extents_db) as conn:
            probs, meta = load_predictions(conn)
        if len(probs) != n - 1 or meta.get("cropped_frames_version") != 1:
            problems.append("extents db does not match the chunks")
        with open_db(storage, keys.raw_ocr_db) as conn:
            frames = conn.execute("SELECT count(*) FROM frames").fetchone()[0]
        if frames != res["extract"]["frame_count"] or len(storage.list(keys.full_frames)) != frames:
            problems.append("frame count differs between result, database and stored frames")
        with open_db(storage, keys.layout_db) as conn:
            conn.execute("SELECT crop_top FROM layout_config").fetchone()
    except Exception as e:  # noqa: BLE001 - reported, not raised
        problems.append(f"{type(e).__name__}: {e}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--videos", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=4.0, help="length of each generated clip")
    ap.add_argument("--gpus", default="t4,a10g", help="one worker per entry (queue class)")
    ap.add_argument("--json", help="write the full report here")
    ap.add_argument("--keep", action="store_true", help="keep the bucket and worker logs")
    ap.add_argument("--caption-jobs", choices=("batch", "one"), default="batch",
                    help="caption OCR as the flows send it (batch, the default) or one job per caption (the seed's)")
    args = ap.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from tests.services.celery_workers import start_workers, worker_env
    from tests.services.redis_server import start_redis

    work = tempfile.mkdtemp(prefix="captionacc-soak-")
    bucket = os.path.join(work, "bucket")
    storage_env = {"CAPTIONACC_STORAGE": "local", "CAPTIONACC_STORAGE_ROOT": bucket}
    print(f"work dir {work}; generating {args.videos} clips of {args.seconds:.1f} s ...", flush=True)
    videos = make_videos(args.videos, work, args.seconds)

    redis = start_redis()
    workers = []
    try:
        os.environ.update(CAPTIONACC_REDIS_URL=redis.url(), CELERY_BROKER_URL=redis.url(),
                          CELERY_RESULT_BACKEND=redis.url(), CAPTIONACC_MODAL_ENABLED="0", **storage_env)
        from tasks.storage import LocalStorage

        storage = LocalStorage(bucket)
        for vid, path in videos:
            storage.put_file(f"{TENANT}/client/videos/{vid}/video.mp4", path)
        env = worker_env(redis.url(), storage_env)
        t_boot = time.monotonic()
        workers = start_workers([(g, env) for g in args.gpus.split(",")], timeout=180)
        print(f"{len(workers)} workers ready in {time.monotonic() - t_boot:.1f} s", flush=True)

        from workers.celery_app import JOBS, app
        from workers.dispatcher import Dispatcher

        dispatcher = Dispatcher.from_env()
        queues = sorted({j.queue for j in JOBS.values()})
        sampler = DepthSampler(dispatcher, queues)
        lat: dict[str, list[float]] = defaultdict(list)
        backends: Counter = Counter()
        errors: list[str] = []
        per_video: dict[str, dict] = {}
        lock = threading.Lock()

        def dispatch(job: str, kwargs: dict) -> dict:
            t = time.monotonic()
            result, decision = dispatcher.dispatch(job, kwargs)
            with lock:
                lat[job].append(time.monotonic() - t)
                backends[decision.backend] += 1
            return result

        def chain(vid: str) -> None:
            t = time.monotonic()
            key = f"{TENANT}/client/videos/{vid}/video.mp4"
            try:
                ex = dispatch("extract_frames_and_ocr", dict(video_key=key, tenant_id=TENANT, video_id=vid,
                                                             frame_rate=1.0))
                ci = dispatch("crop_and_infer_caption_frame_extents",
                              dict(video_key=key, tenant_id=TENANT, video_id=vid, crop_region=CROP))
                from gpu_kernels.extents import decode_intervals
                from tasks.crop_infer import load_predictions
                from tasks.databases import open_db

                with open_db(storage, ci["caption_frame_extents_db_key"]) as conn:
                    intervals = decode_intervals(load_predictions(conn)[0])
                prefix = ci["cropped_frames_prefix"]
                if args.caption_jobs == "one":
                    texts = [dispatch("generate_caption_ocr", dict(chunks_prefix=prefix, start_frame=iv.start,
                                                                   end_frame=iv.end))["ocr_text"]
                             for iv in intervals]
                else:  # as the flows send them
                    from workers.flows import _near, caption_batches

                    spans = [(iv.start, iv.end) for iv in intervals]
                    texts = [c["ocr_text"] for a, b in caption_batches(len(spans))
                             for c in dispatch("generate_caption_ocr_batch", dict(
                                 chunks_prefix=prefix, ranges=[list(r) for r in spans[a:b]],
                                 known=[list(r) for r in _near(spans, a, b)]))["captions"]]
                per_video[vid] = dict(extract=ex, crop=ci, texts=texts, seconds=time.monotonic() - t)
            except Exception as e:  # noqa: BLE001 - counted and reported
                with lock:
                    errors.append(f"{vid}: {type(e).__name__}: {e}")

        sampler.start()
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(videos)) as pool:  # all submitted at once
            list(pool.map(chain, [v for v, _ in videos]))
        wall = time.monotonic() - t0
        sampler.stop_flag.set()
        sampler.join()

        # exactly once: one "succeeded" per task id in the worker logs, no task id twice
        runs: Counter = Counter()
        names: Counter = Counter()
        for w in workers:
            for m in re.finditer(r"Task (captionacc\.[\w.]+)\[([0-9a-f-]+)\] succeeded", w.log()):
                runs[m.group(2)] += 1
                names[m.group(1)] += 1
        dupes = {t: n for t, n in runs.items() if n > 1}
        jobs_sent = sum(len(v) for v in lat.values())
        problems = {vid: p for vid, _ in videos if (p := verify_outputs(storage, vid, per_video.get(vid, {}))
                                                        if vid in per_video else ["chain failed"])}
        peak = {q: max((d.get(q, 0) for _, d in sampler.samples), default=0) for q in queues}
        report = {
            "videos": len(videos), "clip_seconds": args.seconds, "workers": args.gpus.split(","),
            "wall_s": round(wall, 1),
            "throughput": {"videos_per_min": round(60 * len(per_video) / wall, 2),
                           "jobs_per_s": round(jobs_sent / wall, 3)},
            "latency_s": {job: {"n": len(v), "p50": round(pct(v, 50), 2), "p95": round(pct(v, 95), 2),
                                "max": round(max(v), 2)} for job, v in lat.items()},
            "video_latency_s": {"p50": round(pct([v["seconds"] for v in per_video.values()], 50), 2),
                                "p95": round(pct([v["seconds"] for v in per_video.values()], 95), 2)},
            "queue_depth_peak": peak,
            "queue_depth": sampler.samples,
            "backends": dict(backends),
            "task_runs_in_worker_logs": dict(names), "tasks_run_twice": dupes,
            "jobs_dispatched": jobs_sent, "errors": errors, "output_problems": problems,
        }
        print(f"\n{len(per_video)}/{len(videos)} videos done in {wall:.1f} s: "
              f"{report['throughput']['videos_per_min']} videos/min, {report['throughput']['jobs_per_s']} jobs/s")
        for job, s in report["latency_s"].items():
            print(f"  {job:40s} n={s['n']:3d}  p50 {s['p50']:7.2f} s  p95 {s['p95']:7.2f} s  max {s['max']:7.2f} s")
        print(f"  per video (whole chain)                  p50 {report['video_latency_s']['p50']:7.2f} s  "
              f"p95 {report['video_latency_s']['p95']:7.2f} s")
        print(f"  queue depth peak {peak}; backends {dict(backends)}")
        step = max(1, len(sampler.samples) // 20)
        print("  queue depth over time (s: " + ", ".join(queues) + "): " + "  ".join(
            f"{t:.0f}:{'/'.join(str(d.get(q, '?')) for q in queues)}" for t, d in sampler.samples[::step]))
        print(f"  worker task runs {dict(names)} for {jobs_sent} dispatched; run twice: {len(dupes)}")
        print(f"  errors: {len(errors)}; videos with incomplete outputs: {len(problems)}")
        for e in errors[:5]:
            print("   ", e)
        for vid, p in list(problems.items())[:5]:
            print("   ", vid, p)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
        ok = (not errors and not problems and not dupes and sum(names.values()) == jobs_sent
              and len(per_video) == len(videos))
        print("SOAK " + ("PASSED" if ok else "FAILED"))
        return 0 if ok else 1
    finally:
        for w in workers:
            w.stop()
        try:
            from workers.celery_app import app

            from tests.services.celery_workers import release_results

            release_results(app)
        except Exception:  # noqa: BLE001
            pass
        redis.proc.terminate()
        if not args.keep:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    sys.exit(main())
