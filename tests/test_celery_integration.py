"""Real Redis + real Celery workers (subprocesses, one per GPU queue) run the three jobs.

The workers' storage is SeaweedFS (a real S3 server) when ``tests/services/seaweed.py`` is
available, else a local directory; the reference run is in-process on its own local directory.
Results must be equal, and so must the set of objects written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.services.celery_workers import (  # noqa: F401 - fixtures
    ROOT, TENANT, VIDEO, clip_path, job_calls, reference_run, release_results, start_workers, video_key,
    worker_env,
)
from tests.services.redis_server import free_port
from tests.services.redis_server import redis_server  # noqa: F401 - fixture

try:  # the shared SeaweedFS fixture, when it exists
    from tests.services.seaweed import seaweed_s3  # noqa: F401
    HAVE_SEAWEED = True
except ImportError:  # pragma: no cover - depends on the checkout
    HAVE_SEAWEED = False




@pytest.fixture(scope="module")
def reference(reference_run):
    return reference_run["results"], reference_run["keys"], reference_run["storage"]


@pytest.fixture(scope="module")
def worker_storage(request, tmp_path_factory):
    """(env for the workers, a Storage to inspect what they wrote)."""
    if HAVE_SEAWEED:
        s3 = request.getfixturevalue("seaweed_s3")
        bucket = s3.new_bucket("celery")
        return s3.env(bucket), s3.storage(bucket)
    from tasks.storage import LocalStorage

    root = str(tmp_path_factory.mktemp("worker-store"))
    return dict(CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=root), LocalStorage(root)


@pytest.fixture(scope="module")
def cluster(redis_server, worker_storage):  # noqa: F811
    """Real workers, one per queue: a T4-class node on gpu-t4 and an A10G-class node on
    gpu-a10g; plus a second T4 node, the survivor of the SIGKILL test.

    Abandoned jobs are redelivered after 15 s here (production: 7200 s), so the SIGKILL test
    finishes quickly; every job on the test clip takes far less than that.
    """
    from workers.celery_app import make_app

    redis_server.client(0).flushdb()
    env = worker_env(redis_server.url(0), worker_storage[0],
                     CAPTIONACC_BROKER_VISIBILITY_TIMEOUT="15", CAPTIONACC_BROKER_RESTORE_INTERVAL="1")
    workers = start_workers([("t4", env, {"name": "t4-main@test"}),
                             ("a10g", env, {"name": "a10g-main@test", "queues": "gpu-a10g"}),
                             ("t4", env, {"name": "t4-spare@test"})])
    old = {k: os.environ.get(k) for k in ("CAPTIONACC_REDIS_URL", "CELERY_RESULT_BACKEND")}
    os.environ["CAPTIONACC_REDIS_URL"] = os.environ["CELERY_RESULT_BACKEND"] = redis_server.url(0)
    app = make_app()  # a fresh app reads the test's Redis URL
    yield app, workers, env
    release_results(app)
    for w in workers:
        w.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def _send(app, job: str, kwargs: dict):
    from workers.celery_app import JOBS

    return app.send_task(JOBS[job].task_name, kwargs=kwargs)  # routed by name, as `celery call` is


def test_two_real_workers_run_all_three_jobs_like_in_process(cluster, reference, worker_storage, clip_path):
    app, workers, _env = cluster
    ref, ref_keys, _ = reference
    storage = worker_storage[1]
    storage.put_file(video_key(TENANT, VIDEO), clip_path)

    res = {}
    for job, kw in job_calls(VIDEO):
        r = _send(app, job, kw)
        res[job] = (r.get(timeout=180), r.worker, r.queue)
    prefix = res["crop_and_infer_caption_frame_extents"][0]["cropped_frames_prefix"]
    ocr = [(kw["start_frame"], _send(app, job, kw)) for job, kw in job_calls(VIDEO, prefix)]
    for start, r in ocr:
        res[("generate_caption_ocr", start)] = (r.get(timeout=120), r.worker, r.queue)

    for key, (result, worker, queue) in res.items():
        assert result == ref[key], key
        job = key if isinstance(key, str) else key[0]
        expected = "a10g-main@test" if job.startswith("crop") else ("t4-main@test", "t4-spare@test")
        assert worker in expected, (key, worker)
    assert res[("generate_caption_ocr", 10)][0]["ocr_text"] == "你好世界"
    assert sorted(storage.list(TENANT)) == ref_keys


def test_celery_cli_call_by_name(cluster, reference, worker_storage):
    """The documented ad-hoc path: `celery -A workers.celery_app call captionacc.<job> --kwargs`."""
    app, _workers, env = cluster
    ref = reference[0]
    prefix = ref["crop_and_infer_caption_frame_extents"]["cropped_frames_prefix"]
    kwargs = {"chunks_prefix": prefix, "start_frame": 40, "end_frame": 65}
    out = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "call",
         "captionacc.generate_caption_ocr", "--kwargs", json.dumps(kwargs)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    task_id = out.stdout.strip().splitlines()[-1]
    r = app.AsyncResult(task_id)
    assert r.get(timeout=120) == ref[("generate_caption_ocr", 40)]
    assert r.queue == "gpu-t4"


def test_reprocess_command_sends_and_waits(cluster, reference):
    _app, _workers, env = cluster
    ref = reference[0]
    prefix = ref["crop_and_infer_caption_frame_extents"]["cropped_frames_prefix"]
    out = subprocess.run(
        [sys.executable, "-m", "workers.cli_ops", "reprocess", "caption-ocr", "--chunks-prefix", prefix,
         "--start", "10", "--end", "30", "--wait", "--timeout", "120"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=150,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert json.loads(lines[0])["queue"] == "gpu-t4"
    assert json.loads(lines[-1]) == ref[("generate_caption_ocr", 10)]
    # A bad input found by the worker (a frame range past the video) exits 2, as on the client.
    bad = subprocess.run(
        [sys.executable, "-m", "workers.cli_ops", "reprocess", "caption-ocr", "--chunks-prefix", prefix,
         "--start", "100000", "--end", "100010", "--wait", "--timeout", "120"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=150,
    )
    assert bad.returncode == 2, (bad.stdout, bad.stderr)
    assert "InvalidFrameRange" in bad.stderr
    # The batch job, as the flows send it: both captions in one task, read as one by one.
    batch = subprocess.run(
        [sys.executable, "-m", "workers.cli_ops", "reprocess", "caption-ocr-batch", "--chunks-prefix", prefix,
         "--ranges", "10-30,40-60", "--wait", "--timeout", "120"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=150,
    )
    assert batch.returncode == 0, batch.stderr
    got = json.loads(batch.stdout.strip().splitlines()[-1])["captions"]
    assert [c["ocr_text"] for c in got] == [ref[("generate_caption_ocr", s)]["ocr_text"] for s in (10, 40)]


def test_context_and_models_load_once_per_worker_process(cluster):
    app, _workers, _env = cluster
    infos = [app.send_task("captionacc.worker_info", queue="gpu-a10g").get(timeout=30) for _ in range(3)]
    assert len({(i["pid"], i["context_id"]) for i in infos}) == 1
    assert infos[0]["predictor_loaded"] and infos[0]["ocr_loaded"]  # loaded at process start


def test_bad_input_fails_fast_and_is_not_retried(cluster):
    from celery.states import FAILURE

    from gpu_kernels.errors import InvalidId

    app, workers, _env = cluster
    bad = f"{TENANT}/client/videos/../cropped_frames_v1/"
    r = _send(app, "generate_caption_ocr", dict(chunks_prefix=bad, start_frame=0, end_frame=10))
    with pytest.raises(InvalidId):
        r.get(timeout=60)
    assert r.state == FAILURE
    assert r.retries in (0, None)
    t4 = next(w for w in workers if w.gpu == "t4")
    assert f"Retry in" not in t4.log()


def test_soft_time_limit_interrupts_the_job_and_the_worker_carries_on(cluster, worker_storage, clip_path):
    """A soft limit far below the job's run time (production: the seed's timeout minus a margin):
    the job gets SoftTimeLimitExceeded inside, unwinds, and the worker process lives on."""
    from celery.exceptions import SoftTimeLimitExceeded

    from workers.celery_app import JOBS

    from tests.services.celery_workers import make_test_clip

    app, _workers, _env = cluster
    storage = worker_storage[1]
    video = str(uuid.uuid4())
    # A minute of video at frame_rate 10: ~600 frames of OCR, many seconds of work even on a
    # quiet machine (the 8 s shared clip can finish inside the 1 s limit).
    long_clip = make_test_clip(os.path.join(os.path.dirname(clip_path), "long.mp4"), duration=60.0)
    storage.put_file(video_key(TENANT, video), long_clip)
    job, kw = job_calls(video)[0]
    kw = dict(kw, frame_rate=10.0)
    # The worker's timer checks limits about once a second, so the limit is 1 s, not less.
    r = app.send_task(JOBS[job].task_name, kwargs=kw, queue="gpu-a10g", soft_time_limit=1.0, time_limit=120)
    with pytest.raises(SoftTimeLimitExceeded):
        r.get(timeout=120)
    assert r.worker == "a10g-main@test"
    info = app.send_task("captionacc.worker_info", queue="gpu-a10g").get(timeout=30)
    assert info["hostname"] == "a10g-main@test"  # the same child process took the next task


def test_flower_api_lists_the_workers_and_their_gpu_queues(cluster):
    import base64
    import urllib.error
    import urllib.request

    _app, workers, env = cluster
    port = free_port()
    fenv = dict(env, FLOWER_BASIC_AUTH="ops:pa55", FLOWER_PORT=str(port), FLOWER_ADDRESS="127.0.0.1")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "workers.celery_app", "flower",
                             "--conf=deploy/flowerconfig.py"], cwd=ROOT, env=fenv,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/workers?refresh=1"
    auth = {"Authorization": "Basic " + base64.b64encode(b"ops:pa55").decode()}
    try:
        deadline = time.monotonic() + 60
        data: dict = {}
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=auth), timeout=10) as r:
                    data = json.loads(r.read())
                if {w.name for w in workers} <= set(data):
                    break
            except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
                pass
            time.sleep(0.5)
        assert {w.name for w in workers} <= set(data), data.keys()
        queues = {name: {q["name"] for q in info.get("active_queues", [])} for name, info in data.items()}
        assert queues["t4-main@test"] == {"gpu-t4"} and queues["a10g-main@test"] == {"gpu-a10g"}
        qurl = f"http://127.0.0.1:{port}/api/queues/length"
        with urllib.request.urlopen(urllib.request.Request(qurl, headers=auth), timeout=10) as r:
            lengths = {q["name"]: q["messages"] for q in json.loads(r.read())["active_queues"]}
        assert {"gpu-t4", "gpu-a10g"} <= set(lengths)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(url, timeout=10)
        assert err.value.code == 401
    finally:
        proc.terminate()
        proc.wait(10)


def test_sigkilled_worker_job_is_redelivered_to_another_worker(cluster, reference, worker_storage, clip_path):
    """SIGKILL the node running a job: the unacked job goes back to the queue (after the broker
    visibility timeout), completes on the other T4 worker, and its outputs are whole."""
    app, workers, env = cluster
    ref, ref_keys, _ = reference
    storage = worker_storage[1]
    video = str(uuid.uuid4())
    storage.put_file(video_key(TENANT, video), clip_path)
    job, kw = job_calls(video)[0]  # extract: several seconds of OCR, deterministic keys
    r = _send(app, job, kw)
    deadline = time.monotonic() + 60
    while r.state != "STARTED":
        assert time.monotonic() < deadline, "job never started"
        time.sleep(0.02)
    victim_name = r.info["hostname"]
    victim = next(w for w in workers if w.name == victim_name)
    victim.kill()
    survivor = next(w for w in workers if w.gpu == "t4" and w is not victim)

    result = r.get(timeout=120)
    assert r.worker == survivor.name
    expected = dict(ref[job])
    expected = {k: (v.replace(VIDEO, video) if isinstance(v, str) else v) for k, v in expected.items()}
    assert result == expected
    written = sorted(k.replace(video, VIDEO) for k in storage.list(f"{TENANT}/client/videos/{video}")
                     + storage.list(f"{TENANT}/server/videos/{video}"))
    ref_extract = sorted(k for k in ref_keys if "cropped_frames" not in k and "caption_frame" not in k)
    assert written == ref_extract
    assert not [k for k in written if ".partial-" in k]
