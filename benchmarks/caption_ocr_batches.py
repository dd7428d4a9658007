"""Caption OCR as the cluster runs it: one job per caption (the seed's) against batch jobs.

    .venv/bin/python benchmarks/caption_ocr_batches.py [VIDEO ...]   # default: the 1-min bench clip

Each video is extracted and cropped once, in-process, on a local bucket. Then its captions are
read twice, as workers read them: (1) ``generate_caption_ocr`` once per caption, each job with
its own chunk reader (a job starts with nothing cached); (2) ``generate_caption_ocr_batch`` over
the flows' batches (``workers.flows.caption_batches``, the captions beside each batch as
``known``). Reported per video: jobs (Celery tasks and Prefect task threads), chunk GETs from
storage, wall time and whether the texts agree with ``captionacc run``'s in-process reading.
Broker and network time per task are not in these figures: a real cluster adds them per job, so
they favour the one-per-caption way. A JSON record goes to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

TENANT = "7d0c6a4e-1b2c-4d3e-8f90-a1b2c3d4e5f6"
VIDEO = "8d9b2f4c-7e6a-4b1d-9c8e-f0e1d2c3b4a5"


class CountingStorage:
    """A storage that counts reads of cropped-frame chunks (one GET each on S3)."""

    def __init__(self, inner) -> None:
        self.inner, self.chunk_gets = inner, 0

    def open_local(self, key, *a, **kw):
        if key.endswith(".webm"):
            self.chunk_gets += 1
        return self.inner.open_local(key, *a, **kw)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def measure(video: str) -> dict:
    from tasks.caption_ocr import generate_caption_ocr, generate_caption_ocr_batch, ocr_captions
    from tasks.context import JobContext
    from tasks.crop_infer import crop_and_infer_caption_frame_extents
    from tasks.extract import extract_frames_and_ocr
    from tasks.keys import VideoKeys
    from tasks.pipeline import _layout_plan, caption_intervals
    from tasks.storage import LocalStorage
    from workers.flows import _near, caption_batches

    work = tempfile.mkdtemp(prefix="captionacc-batches-")
    try:
        local = LocalStorage(work)
        keys = VideoKeys(TENANT, VIDEO)
        os.makedirs(os.path.dirname(local.path(keys.video)), exist_ok=True)
        shutil.copy(video, local.path(keys.video))
        storage = CountingStorage(local)
        ctx = JobContext(storage=storage, device_name="cpu")
        ex = extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=ctx)
        regions, _source, _scene = _layout_plan(local, ex.layout_db_key)
        ci = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, regions[0], ctx=ctx)
        extents, _meta, _changes = caption_intervals(local, ci.caption_frame_extents_db_key, 0)
        spans = [(e.start_frame, e.end_frame) for e in extents]
        prefix = ci.cropped_frames_prefix
        ctx.ocr.recognize_batch([])  # engines loaded before timing, as in a warm worker

        def timed(fn) -> tuple[list[str], int, float]:
            storage.chunk_gets = 0
            t = time.perf_counter()
            texts = fn()
            return texts, storage.chunk_gets, round(time.perf_counter() - t, 2)

        run_texts, run_gets, run_s = timed(lambda: [r.ocr_text for r in ocr_captions(prefix, spans, ctx=ctx)])
        one_texts, one_gets, one_s = timed(lambda: [generate_caption_ocr(prefix, s, e, ctx=ctx).ocr_text
                                                    for s, e in spans])
        batches = caption_batches(len(spans))
        batch_texts, batch_gets, batch_s = timed(lambda: [
            c.ocr_text for a, b in batches
            for c in generate_caption_ocr_batch(prefix, [list(r) for r in spans[a:b]],
                                                [list(r) for r in _near(spans, a, b)], ctx=ctx).captions])
        return {
            "video": os.path.basename(video), "captions": len(spans), "chunks_total": run_gets,
            "one_per_caption": {"jobs": len(spans), "chunk_gets": one_gets, "wall_s": one_s,
                                "texts_as_run": sum(a == b for a, b in zip(one_texts, run_texts))},
            "batches": {"jobs": len(batches), "chunk_gets": batch_gets, "wall_s": batch_s,
                        "texts_as_run": sum(a == b for a, b in zip(batch_texts, run_texts))},
            "in_process_run": {"chunk_gets": run_gets, "wall_s": run_s},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("videos", nargs="*")
    a = ap.parse_args()
    from pipeline_bench import make, save_record

    videos = a.videos or [make("720p", 1)[0]]
    rows = []
    print(f"{'video':<28}{'captions':>9}  {'jobs':>11}  {'chunk GETs':>13}  {'wall s':>13}  {'texts as run':>14}")
    for v in videos:
        r = measure(v)
        rows.append(r)
        o, b = r["one_per_caption"], r["batches"]
        print(f"{r['video']:<28}{r['captions']:>9}  {o['jobs']:>5} -> {b['jobs']:<3}  {o['chunk_gets']:>6} -> "
              f"{b['chunk_gets']:<4}  {o['wall_s']:>5} -> {b['wall_s']:<5}  {o['texts_as_run']:>4} / "
              f"{b['texts_as_run']:<4}", flush=True)
    record = {"when": datetime.datetime.now(datetime.timezone.utc).isoformat(), "cpus": os.cpu_count(),
              "videos": rows}
    print(f"record: {os.path.relpath(save_record('caption_batches', record), REPO)}")


if __name__ == "__main__":
    main()
