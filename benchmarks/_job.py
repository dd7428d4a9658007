"""Run one job (or the whole pipeline) in this process and print its figures as JSON.

Each measurement runs in its own process so peak RSS belongs to that job alone.
    python benchmarks/_job.py STAGE VIDEO WORKDIR [--model auto|learned|classical]
"""

import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TENANT = "7d0c6a4e-1b2c-4d3e-8f90-a1b2c3d4e5f6"
VIDEO = "8d9b2f4c-7e6a-4b1d-9c8e-f0e1d2c3b4a5"


def _peak_rss_kb() -> int:
    """This process's peak RSS. VmHWM starts afresh at exec; ru_maxrss would also count the
    parent's memory at fork time (the benchmark's clip generator)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("stage", choices=["decode", "decode_vp9", "extract", "crop_infer", "caption_ocr", "pipeline"])
    ap.add_argument("video")
    ap.add_argument("workdir")
    ap.add_argument("--model", default="auto")
    ap.add_argument("--crop", default="0,0.72,1,0.98")
    a = ap.parse_args()

    from tasks.context import JobContext
    from tasks.keys import VideoKeys
    from tasks.storage import LocalStorage

    storage = LocalStorage(a.workdir)
    keys = VideoKeys(TENANT, VIDEO)
    if not storage.exists(keys.video):
        os.makedirs(os.path.dirname(storage.path(keys.video)), exist_ok=True)
        os.link(a.video, storage.path(keys.video))
    ctx = JobContext(storage=storage, device_name="cpu", predictor_name=a.model)
    extra: dict = {}
    # Model and OCR load once per worker process in production; keep their load out of the timing.
    if a.stage in ("crop_infer", "pipeline"):
        extra["model_version"] = ctx.predictor.model_version
    if a.stage in ("extract", "caption_ocr", "pipeline"):
        ctx.ocr
    t0 = time.perf_counter()
    c0 = time.process_time()
    if a.stage == "decode":
        import av

        with av.open(a.video) as c:
            s = c.streams.video[0]
            s.thread_type = "AUTO"
            extra["frames"] = sum(1 for _ in c.decode(s))
    elif a.stage == "decode_vp9":
        # The floor the chunk contract sets for crop-and-infer: every frame decoded, the 10 Hz
        # bands cut and VP9-encoded into chunks (overlapped as the job overlaps them), no model.
        from gpu_kernels.band import band_cropper
        from gpu_kernels.crop import region_to_box
        from gpu_kernels.stream import Sink, threaded
        from gpu_kernels.video import iter_grid_windows, probe
        from tasks.chunks import ChunkWriter
        from tasks.types import CropRegion

        ahead = 32  # tasks.crop_infer.DECODE_AHEAD; importing that module would load torch here

        info = probe(a.video)
        box = region_to_box(*CropRegion.parse(a.crop).as_tuple(), info.width, info.height)
        writer = ChunkWriter(box[2] - box[0], box[3] - box[1], lambda rel, local: None)
        frames = threaded(iter_grid_windows(a.video, 10.0, band_cropper(box), windows=False), maxsize=ahead)
        with Sink(lambda item: writer.add(*item), maxsize=ahead) as encoder:
            for idx, band, _ in frames:
                encoder.put((idx, band))
        writer.finish(version=1)
        extra["frames"] = writer.frame_count
    elif a.stage == "extract":
        from tasks.extract import extract_frames_and_ocr

        r = extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=ctx)
        extra["frames"] = r.frame_count
    elif a.stage == "crop_infer":
        from tasks.crop_infer import crop_and_infer_caption_frame_extents

        r = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, a.crop, ctx=ctx)
        extra["version"] = r.version
        extra["prefix"] = r.cropped_frames_prefix
    elif a.stage == "caption_ocr":
        from gpu_kernels.extents import decode_intervals
        from tasks.caption_ocr import ocr_captions
        from tasks.crop_infer import load_predictions
        from tasks.databases import open_db

        with open_db(storage, keys.caption_frame_extents_db) as conn:
            probs, meta = load_predictions(conn)
        intervals = decode_intervals(probs)
        prefix = keys.cropped_frames(meta["cropped_frames_version"]) + "/"
        t0, c0 = time.perf_counter(), time.process_time()
        results = list(ocr_captions(prefix, [(i.start, i.end) for i in intervals], ctx=ctx))
        extra["captions"] = len(results)
    elif a.stage == "pipeline":
        from tasks.pipeline import run_video

        r = run_video(keys.video, TENANT, VIDEO, None, ctx=ctx)
        extra["captions"] = len(r.captions)
        extra["stage_seconds"] = {k: round(v, 3) for k, v in r.timings.items()}
        srt = os.path.join(a.workdir, "captions.srt")
        with open(srt, "wb") as f:
            f.write(storage.get_bytes(keys.captions_srt))
        extra["srt"] = srt
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss_kb = _peak_rss_kb()
    print(json.dumps({"stage": a.stage, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                      "peak_rss_mb": round(rss_kb / 1024, 1), **extra}))


if __name__ == "__main__":
    main()
