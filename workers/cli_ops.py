"""Operations subcommands for the ``captionacc`` CLI: ``worker`` and ``reprocess``.

``workers.cli`` calls :func:`register` with its subparsers. The module also runs on its own
(``python -m workers.cli_ops worker --gpu t4``), which the tests and the Dockerfile use.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

GPU_CLASSES = ("t4", "a10g")


def register(subparsers) -> None:
    w = subparsers.add_parser(
        "worker",
        help="run a Celery GPU worker",
        description="Start a Celery worker for one GPU class. A t4 node consumes gpu-t4; an a10g "
        "node consumes gpu-a10g and gpu-t4. The JobContext (storage, OCR, extents model) is built "
        "once per worker process.",
    )
    w.add_argument("--gpu", choices=GPU_CLASSES, required=True, help="this node's GPU class")
    w.add_argument("--concurrency", type=int, default=1,
                   help="worker processes (default 1: one job per GPU at a time)")
    w.add_argument("--pool", default="prefork", choices=("prefork", "solo", "threads"),
                   help="prefork (default) enforces hard time limits and survives a lost child")
    w.add_argument("--name", default=None, help="node name (default <gpu>@<hostname>)")
    w.add_argument("--loglevel", default="INFO")
    w.add_argument("--queues", default=None, help="override the queues (comma separated)")
    w.set_defaults(func=run_worker)

    r = subparsers.add_parser(
        "reprocess",
        help="send one job to the Celery GPU queues",
        description="Ad-hoc reprocessing: sends captionacc.<job> to its queue. The same as "
        "`celery -A workers.celery_app call captionacc.<job> --kwargs '{...}'`.",
    )
    jobs = r.add_subparsers(dest="job", required=True)
    for name, helptext in (("extract", "extract_frames_and_ocr"),
                           ("crop-infer", "crop_and_infer_caption_frame_extents")):
        p = jobs.add_parser(name, help=helptext)
        p.add_argument("--tenant", required=True, help="tenant UUID")
        p.add_argument("--video", required=True, help="video UUID")
        p.add_argument("--video-key", default=None,
                       help="storage key of the video (default {tenant}/client/videos/{video}/video.mp4)")
        if name == "crop-infer":
            p.add_argument("--crop", required=True, help="crop region L,T,R,B as fractions")
        p.add_argument("--frame-rate", type=float, default=None)
    p = jobs.add_parser("caption-ocr", help="generate_caption_ocr")
    p.add_argument("--chunks-prefix", required=True)
    p.add_argument("--start", type=int, required=True, help="start frame index (inclusive)")
    p.add_argument("--end", type=int, required=True, help="end frame index (exclusive)")
    p = jobs.add_parser("caption-ocr-batch", help="generate_caption_ocr_batch: many captions in one job")
    p.add_argument("--chunks-prefix", required=True)
    p.add_argument("--ranges", required=True, type=frame_ranges,
                   help="START-END[,START-END...]: frame intervals, end exclusive")
    for sub in jobs.choices.values():
        sub.add_argument("--wait", action="store_true", help="wait for the result and print it")
        sub.add_argument("--timeout", type=float, default=None, help="seconds to wait with --wait")
        sub.set_defaults(func=run_reprocess)

    from .dispatcher_cli import register as register_dispatcher
    from .submit import register as register_submit

    register_submit(subparsers)
    register_dispatcher(subparsers)


def worker_argv(gpu: str, concurrency: int = 1, pool: str = "prefork", name: str | None = None,
                loglevel: str = "INFO", queues: str | None = None) -> list[str]:
    from .celery_app import GPU_QUEUES

    qs = queues or ",".join(GPU_QUEUES[gpu])
    node = name or f"{gpu}@{socket.gethostname()}"
    return ["worker", "-Q", qs, "-n", node, f"--pool={pool}", f"--concurrency={concurrency}",
            f"--loglevel={loglevel}", "--task-events", "--without-mingle", "--without-gossip"]


def run_worker(args: argparse.Namespace) -> int:
    from .celery_app import app

    os.environ.setdefault("CAPTIONACC_GPU_CLASS", args.gpu)
    app.worker_main(worker_argv(args.gpu, args.concurrency, args.pool, args.name, args.loglevel,
                                args.queues))
    return 0


def frame_ranges(text: str) -> list[list[int]]:
    """"120-164,170-200" → [[120, 164], [170, 200]]."""
    out = []
    for part in text.split(","):
        a, sep, b = part.strip().partition("-")
        if not sep or not a.strip().isdigit() or not b.strip().isdigit():
            raise argparse.ArgumentTypeError(f"frame ranges are START-END[,START-END...]; got {part.strip()!r}")
        out.append([int(a), int(b)])
    return out


def reprocess_request(args: argparse.Namespace) -> tuple[str, dict]:
    """(job name, kwargs) for a ``reprocess`` command line."""
    from .celery_app import JOB_ALIASES

    job = JOB_ALIASES[args.job]
    if args.job == "caption-ocr":
        return job, {"chunks_prefix": args.chunks_prefix, "start_frame": args.start, "end_frame": args.end}
    if args.job == "caption-ocr-batch":
        return job, {"chunks_prefix": args.chunks_prefix, "ranges": args.ranges}
    from tasks.keys import VideoKeys

    keys = VideoKeys(args.tenant, args.video)
    kwargs: dict = {"video_key": args.video_key or keys.video, "tenant_id": keys.tenant_id,
                    "video_id": keys.video_id}
    if args.job == "crop-infer":
        from tasks.types import CropRegion

        kwargs["crop_region"] = CropRegion.parse(args.crop).__dict__
    if args.frame_rate is not None:
        kwargs["frame_rate"] = args.frame_rate
    return job, kwargs


def unserved_queue(app, queues: tuple[str, ...], timeout: float = 3.0) -> str | None:
    """"no worker consumes Q (…)" for the first of ``queues`` no online worker consumes (asked
    within ``timeout`` seconds), None when every one has a worker."""
    consuming = app.control.inspect(timeout=timeout).active_queues() or {}
    served = {q.get("name") for qs in consuming.values() for q in (qs or [])}
    for q in queues:
        if q not in served:
            gpu = "a10g" if q.endswith("a10g") else "t4"
            return f"no worker consumes {q} (start one: captionacc worker --gpu {gpu})"
    return None


def run_reprocess(args: argparse.Namespace) -> int:
    from gpu_kernels.errors import BadInput

    from .celery_app import JOBS, app, send_job, unreachable_redis

    try:
        job, kwargs = reprocess_request(args)
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    spec = JOBS[job]
    # Seconds, not the job's whole time limit, to say that it cannot run.
    down = unreachable_redis(app.conf.broker_url)
    problem = down or unserved_queue(app, (spec.queue,))
    if down or (problem and args.wait):
        print(f"error: {problem}", file=sys.stderr)
        return 3
    res = send_job(app, job, kwargs)
    print(json.dumps({"task_id": res.id, "task": spec.task_name, "queue": spec.queue}))
    if problem:  # queued for a worker that is not there yet: say so, the job waits for one
        print(f"warning: {problem}; the job waits in the queue", file=sys.stderr)
    if not args.wait:
        return 0
    from gpu_kernels.errors import CaptionAccError

    try:
        out = res.get(timeout=args.timeout or spec.timeout + 60)
    except Exception as e:  # noqa: BLE001 - report any failure as an exit code
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
        # The worker's typed errors come back as themselves (Celery rebuilds the class): the
        # same contract as captionacc run, 2 for bad input, 3 for other product errors.
        if isinstance(e, BadInput):
            return 2
        return 3 if isinstance(e, CaptionAccError) else 1
    print(json.dumps(out, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.cli_ops")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
