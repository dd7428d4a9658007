"""Every worker module imports cleanly, with nothing happening at import time (no broker
connection, no configuration read), and the CLI subcommands parse as documented."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = ["workers.celery_app", "workers.celery_tasks", "workers.dispatcher", "workers.flows",
           "workers.videos_db", "workers.cli_ops", "workers.modal_app"]


def test_worker_modules_import_without_side_effects():
    code = (
        "import json, warnings, importlib; warnings.simplefilter('ignore')\n"
        f"mods = [importlib.import_module(m) for m in {MODULES!r}]\n"
        "from workers.celery_app import app\n"
        "print(json.dumps({'configured': app.configured,"
        " 'tasks': sorted(n for n in app.tasks if n.startswith('captionacc.'))}))\n"
    )
    # An unroutable broker: any connection attempt at import would hang until the timeout.
    env = dict(os.environ, CAPTIONACC_REDIS_URL="redis://10.255.255.1:6379/0",
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["configured"] is False
    assert info["tasks"] == ["captionacc.crop_and_infer_caption_frame_extents", "captionacc.extract_frames_and_ocr",
                             "captionacc.generate_caption_ocr", "captionacc.generate_caption_ocr_batch",
                             "captionacc.worker_info"]


def test_celery_configuration_contract(monkeypatch):
    from workers.celery_app import JOBS, make_app

    monkeypatch.setenv("CAPTIONACC_REDIS_URL", "redis://example:6380/4")
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
    monkeypatch.delenv("CAPTIONACC_BROKER_VISIBILITY_TIMEOUT", raising=False)
    monkeypatch.delenv("CAPTIONACC_WORKER_MAX_MEMORY_MB", raising=False)
    app = make_app()
    c = app.conf
    assert c.broker_url == c.result_backend == "redis://example:6380/4"
    assert (c.task_acks_late, c.task_reject_on_worker_lost, c.worker_prefetch_multiplier) == (True, True, 1)
    assert c.task_serializer == c.result_serializer == "json" and c.accept_content == ["json"]
    assert c.broker_transport_options["visibility_timeout"] > max(j.timeout for j in JOBS.values())
    assert c.worker_max_memory_per_child == 6144 * 1024  # KiB: a process past 6 GiB is replaced
    monkeypatch.setenv("CAPTIONACC_WORKER_MAX_MEMORY_MB", "2048")
    assert make_app().conf.worker_max_memory_per_child == 2048 * 1024
    routes = {name: r["queue"] for name, r in c.task_routes.items()}
    assert routes == {"captionacc.extract_frames_and_ocr": "gpu-t4",
                      "captionacc.crop_and_infer_caption_frame_extents": "gpu-a10g",
                      "captionacc.generate_caption_ocr": "gpu-t4",
                      "captionacc.generate_caption_ocr_batch": "gpu-t4"}
    import workers.celery_tasks  # noqa: F401 - registers the tasks on the module app

    from workers.celery_app import app as module_app

    for job, (limit, retries) in {"extract_frames_and_ocr": (1800, 0),
                                  "crop_and_infer_caption_frame_extents": (3600, 0),
                                  "generate_caption_ocr": (300, 1),
                                  "generate_caption_ocr_batch": (1800, 1)}.items():
        t = module_app.tasks[f"captionacc.{job}"]
        assert t.time_limit == limit and limit - 60 <= t.soft_time_limit < limit
        assert t.max_retries == retries and t.acks_late and t.reject_on_worker_lost
        if retries == 0:
            assert not getattr(t, "autoretry_for", ())
    from gpu_kernels.errors import BadInput, Transient

    ocr = module_app.tasks["captionacc.generate_caption_ocr"]
    assert Transient in ocr.autoretry_for and BadInput not in ocr.autoretry_for


def _parse(argv):
    from workers.cli_ops import register

    p = argparse.ArgumentParser(prog="captionacc")
    register(p.add_subparsers(dest="command", required=True))
    return p.parse_args(argv)


def test_worker_command_consumes_the_right_queues():
    from workers.cli_ops import run_worker, worker_argv

    a = _parse(["worker", "--gpu", "a10g", "--concurrency", "2"])
    assert a.func is run_worker
    argv = worker_argv(a.gpu, a.concurrency)
    assert argv[argv.index("-Q") + 1] == "gpu-a10g,gpu-t4" and "--concurrency=2" in argv
    argv = worker_argv("t4")
    assert argv[argv.index("-Q") + 1] == "gpu-t4" and "--pool=prefork" in argv
    with pytest.raises(SystemExit):
        _parse(["worker", "--gpu", "h100"])


def test_reprocess_command_builds_the_task_kwargs():
    from workers.cli_ops import reprocess_request, run_reprocess

    t, v = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
    a = _parse(["reprocess", "crop-infer", "--tenant", t, "--video", v, "--crop", "0,0.6,1,1"])
    assert a.func is run_reprocess
    job, kw = reprocess_request(a)
    assert job == "crop_and_infer_caption_frame_extents"
    assert kw == {"video_key": f"{t}/client/videos/{v}/video.mp4", "tenant_id": t, "video_id": v,
                  "crop_region": {"crop_left": 0.0, "crop_top": 0.6, "crop_right": 1.0, "crop_bottom": 1.0}}
    job, kw = reprocess_request(_parse(["reprocess", "caption-ocr", "--chunks-prefix", "p/", "--start", "3",
                                        "--end", "9"]))
    assert (job, kw) == ("generate_caption_ocr", {"chunks_prefix": "p/", "start_frame": 3, "end_frame": 9})
    job, kw = reprocess_request(_parse(["reprocess", "caption-ocr-batch", "--chunks-prefix", "p/",
                                        "--ranges", "3-9, 12-20"]))
    assert (job, kw) == ("generate_caption_ocr_batch", {"chunks_prefix": "p/", "ranges": [[3, 9], [12, 20]]})
    with pytest.raises(SystemExit):
        _parse(["reprocess", "caption-ocr-batch", "--chunks-prefix", "p/", "--ranges", "3:9"])
    bad = _parse(["reprocess", "extract", "--tenant", "nope", "--video", v])
    assert run_reprocess(bad) == 2  # a bad id is refused before anything is sent


def test_call_job_validates_before_running():
    from gpu_kernels.errors import BadInput, InvalidCropRegion, InvalidFrameRange
    from workers.celery_tasks import call_job

    with pytest.raises(BadInput, match="unknown arguments"):
        call_job("generate_caption_ocr", dict(chunks_prefix="p", start_frame=0, end_frame=1, extra=1), ctx=object())
    with pytest.raises(InvalidFrameRange):
        call_job("generate_caption_ocr", dict(chunks_prefix="p", start_frame=0.5, end_frame=1), ctx=object())
    with pytest.raises(InvalidCropRegion):
        call_job("crop_and_infer_caption_frame_extents",
                 dict(video_key="k", tenant_id="t", video_id="v", crop_region=[0, 0, 2, 1]), ctx=object())
    with pytest.raises(BadInput, match="frame_rate"):
        call_job("extract_frames_and_ocr", dict(video_key="k", tenant_id="t", video_id="v", frame_rate=-1),
                 ctx=object())
    with pytest.raises(BadInput, match="unknown job"):
        call_job("rm_rf", {}, ctx=object())
