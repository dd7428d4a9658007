"""``captionacc submit`` / ``status`` / ``fetch``: one video through the cluster path.

``submit`` stores the video at the seed's key, creates its ``videos`` row and starts the
whole-video flow: the ``captionacc-process-video`` deployment when ``PREFECT_API_URL`` is set
(a Prefect worker runs it), in this process otherwise. Its GPU jobs go wherever the dispatcher
sends them (Celery workers, Modal when configured, in-process when neither is there).
``--wait`` follows the run and exits 0 when captions are published, 2 when the video is bad
input, 3 when processing failed. ``status`` prints a video's row; ``fetch`` downloads its captions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

DEPLOYMENT = "captionacc-process-video/captionacc-process-video"


def register(subparsers) -> None:
    s = subparsers.add_parser(
        "submit", help="store a video and start its whole-video flow (cluster path)",
        description="Store VIDEO at {tenant}/client/videos/{id}/video.mp4, create its videos row and "
        "start captionacc-process-video: the Prefect deployment when PREFECT_API_URL is set, in this "
        "process otherwise. Prints the tenant and video ids.")
    s.add_argument("video", help="video file")
    s.add_argument("--tenant", default=None, help="tenant UUID (default: CAPTIONACC_TENANT, else the local tenant)")
    s.add_argument("--crop", default=None, help="crop region L,T,R,B (default: the layout's suggestion)")
    s.add_argument("--wait", action="store_true", help="follow the run; exit 0 done, 2 bad input, 3 failed")
    s.add_argument("--timeout", type=float, default=None, help="seconds to wait with --wait (default: no limit)")
    s.set_defaults(func=run_submit)

    st = subparsers.add_parser("status", help="a submitted video's status row")
    st.add_argument("video_id")
    st.set_defaults(func=run_status)

    f = subparsers.add_parser("fetch", help="download a processed video's captions")
    f.add_argument("video_id")
    f.add_argument("--out", required=True, help="directory for captions.srt, captions.vtt, captions.db")
    f.set_defaults(func=run_fetch)


def _tenant(given: str | None) -> str:
    from tasks.keys import validate_id

    from .cli import LOCAL_TENANT

    return validate_id(given or os.environ.get("CAPTIONACC_TENANT") or LOCAL_TENANT, "tenant")


def run_submit(args: argparse.Namespace) -> int:
    from gpu_kernels.video import probe
    from tasks.keys import VideoKeys
    from tasks.settings import Settings
    from tasks.storage import open_storage
    from tasks.types import CropRegion

    from .cli import regular_file, video_id_for
    from .videos_db import VideoStore

    video = regular_file(args.video)
    settings = Settings()
    probe(video, settings.limits, name=args.video)  # refuse a bad or oversized file before uploading it
    _check_queues()
    crop = dict(CropRegion.parse(args.crop).__dict__) if args.crop else None
    tenant = _tenant(args.tenant)
    keys = VideoKeys(tenant, video_id_for(video))
    with open_storage(settings=settings) as storage:
        storage.put_file(keys.video, video)
    with VideoStore(settings.database_url) as store:
        store.upsert(keys.video_id, tenant, status="uploaded", storage_key=keys.video, error=None, stage="submit")
    params = dict(video_id=keys.video_id, tenant_id=tenant, storage_key=keys.video, crop_region=crop,
                  database_url=settings.database_url)
    print(f"tenant {tenant}\nvideo {keys.video_id}", flush=True)
    if os.environ.get("PREFECT_API_URL"):
        from prefect.deployments import run_deployment

        run = run_deployment(DEPLOYMENT, parameters=params, timeout=0)
        print(f"flow run {run.id} ({DEPLOYMENT})", flush=True)
        return _follow(run.id, keys.video_id, settings.database_url, args.timeout) if args.wait else 0
    # Prefect runs the flow on a temporary local server; on a box busy loading models its
    # default 20-s start-up allowance is too short.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry from a CLI
    from tasks.errors import Fatal

    from .flows import process_video

    print("flow: in this process (PREFECT_API_URL is not set)", flush=True)
    try:
        process_video(**params)
    except Exception as e:  # noqa: BLE001 - the flow records its own failures in the row
        with VideoStore(settings.database_url) as store:
            recorded = (store.get(keys.video_id) or {}).get("status") == "error"
        if not recorded:  # it failed before it could say so (Prefect itself, the database)
            raise Fatal(f"the flow did not run: {type(e).__name__}: {e}") from e
    return _report(keys.video_id, settings.database_url)


def _check_queues() -> None:
    """With Redis configured, say within seconds when it is unreachable (error, exit 3) or when no
    worker consumes a GPU queue (a warning: the jobs wait there for one, or go to Modal)."""
    from tasks.errors import Fatal

    from .celery_app import app, configured_broker_url, unreachable_redis
    from .cli_ops import unserved_queue

    if not configured_broker_url():
        return  # no cluster: the jobs run in the flow's process
    down = unreachable_redis(app.conf.broker_url)
    if down:
        raise Fatal(down)
    problem = unserved_queue(app, ("gpu-t4", "gpu-a10g"))
    if problem:
        print(f"warning: {problem}; its jobs wait for one (or go to Modal where configured)",
              file=sys.stderr, flush=True)


def _follow(run_id, video_id: str, database_url: str, timeout: float | None) -> int:
    """Poll the flow run; print each state and stage change; exit code from the final state."""
    from prefect.client.orchestration import get_client

    from .videos_db import VideoStore

    start, last = time.monotonic(), None
    with get_client(sync_client=True) as client, VideoStore(database_url) as store:
        while True:
            state = client.read_flow_run(run_id).state
            row = store.get(video_id) or {}
            now = (state.type.value if state else "?", row.get("stage"), row.get("status"))
            if now != last:
                print(f"  run {now[0].lower()}, video {now[2]} ({now[1]})", flush=True)
                last = now
            if state is not None and state.is_final():
                return _report(video_id, database_url)
            if timeout is not None and time.monotonic() - start > timeout:
                print(f"error: still running after {timeout:g} s (flow run {run_id})", file=sys.stderr)
                return 3
            time.sleep(2.0)


def _report(video_id: str, database_url: str) -> int:
    from .videos_db import VideoStore

    with VideoStore(database_url) as store:
        row = store.get(video_id) or {}
    if row.get("status") == "active":
        print(f"done: {row.get('caption_count')} captions; `captionacc fetch {video_id} --out DIR` downloads them")
        return 0
    error = " ".join(str(row.get("error") or "the flow failed").split())
    print(f"error: {error}", file=sys.stderr)
    return 2 if _is_bad_input(row) else 3


def _is_bad_input(row: dict) -> bool:
    """Whether the recorded failure is the video's fault (a BadInput), from its error type."""
    import gpu_kernels.errors as errors

    name = ((row.get("details") or {}).get("error_type")) or ""
    cls = getattr(errors, name, None)
    return isinstance(cls, type) and issubclass(cls, errors.BadInput)


def run_status(args: argparse.Namespace) -> int:
    from tasks.errors import InvalidId
    from tasks.settings import Settings

    from .videos_db import VideoStore

    with VideoStore(Settings().database_url) as store:
        row = store.get(args.video_id)
    if row is None:
        raise InvalidId(f"no video {args.video_id} in the videos table")
    for k in ("id", "tenant_id", "status", "stage", "error", "storage_key", "duration_seconds", "caption_count",
              "crop_left", "crop_top", "crop_right", "crop_bottom", "updated_at"):
        if row.get(k) is not None:
            print(f"{k}: {row[k]}")
    return 0 if row["status"] != "error" else 3


def run_fetch(args: argparse.Namespace) -> int:
    import tempfile

    from tasks.errors import InvalidId, MissingObject
    from tasks.keys import VideoKeys
    from tasks.settings import Settings
    from tasks.storage import open_storage

    from .cli import _publish
    from .videos_db import VideoStore

    settings = Settings()
    with VideoStore(settings.database_url) as store:
        row = store.get(args.video_id)
    if row is None:
        raise InvalidId(f"no video {args.video_id} in the videos table")
    if row["status"] != "active":
        raise MissingObject(f"video {args.video_id} has no captions yet (status {row['status']})")
    keys = VideoKeys(row["tenant_id"], args.video_id)
    os.makedirs(args.out, exist_ok=True)
    with open_storage(settings=settings) as storage, tempfile.TemporaryDirectory() as d:
        storage.get_file(keys.captions_srt, os.path.join(d, "captions.srt"))
        storage.get_file(keys.captions_vtt, os.path.join(d, "captions.vtt"))
        storage.get_gunzipped(keys.captions_db, os.path.join(d, "captions.db"))
        _publish({os.path.join(args.out, n): os.path.join(d, n) for n in ("captions.srt", "captions.vtt",
                                                                         "captions.db")})
    print(f"wrote {os.path.join(args.out, 'captions.srt')}, captions.vtt, captions.db")
    return 0

