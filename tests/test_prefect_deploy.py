"""The cluster path as an operator follows it: ``prefect deploy --all`` of the repository's own
prefect.yaml against a real Prefect server, ``captionacc submit VIDEO --wait``, a real process
worker (started in another directory) running the whole-video flow, its GPU jobs on a real
Celery worker, then ``captionacc status`` and ``captionacc fetch``: the same SRT as
``captionacc run`` of the same file."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.services.celery_workers import TENANT, clip_path, start_workers, worker_env  # noqa: F401
from tests.services.redis_server import redis_server  # noqa: F401 - fixture

from .conftest import REPO

BIN = os.path.dirname(sys.executable)


def _cmd(prog: str, args: list[str], env: dict, cwd: str, timeout: float) -> subprocess.CompletedProcess:
    p = subprocess.run([os.path.join(BIN, prog), *args], env=env, cwd=cwd, capture_output=True, text=True,
                       timeout=timeout)
    assert p.returncode == 0, f"{prog} {' '.join(args)}: {p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


def test_deploy_submit_wait_status_fetch_on_a_cluster(prefect_server, redis_server, clip_path, tmp_path):  # noqa: F811
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    root = str(tmp_path / "bucket")
    database_url = f"sqlite:///{tmp_path / 'videos.db'}"
    redis_server.client(3).flushdb()
    base = worker_env(redis_server.url(3), dict(CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=root),
                      CAPTIONACC_WARM_MODELS="")
    env = dict(base, PREFECT_API_URL=PREFECT_API_URL.value(), CAPTIONACC_APP_DIR=REPO,
               CAPTIONACC_DATABASE_URL=database_url, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    (worker,) = start_workers([("a10g", base, {"name": "a10g-deploy@test"})])
    reference = subprocess.Popen([os.path.join(BIN, "captionacc"), "run", clip_path, "--out",
                                  str(tmp_path / "local"), "-q"], env=base, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
    submit = None
    try:
        _cmd("prefect", ["work-pool", "create", "captionacc", "--type", "process", "--overwrite"], env, REPO, 120)
        _cmd("prefect", ["--no-prompt", "deploy", "--all", "--prefect-file", "prefect.yaml"], env, REPO, 300)
        with get_client(sync_client=True) as client:
            deployed = {d.name: d for d in client.read_deployments()}
        assert {"captionacc-video-initial-processing", "captionacc-crop-and-infer-caption-frame-extents",
                "captionacc-caption-ocr", "captionacc-process-video"} <= set(deployed)
        assert deployed["captionacc-process-video"].entrypoint == "workers.flows.process_video"

        submit = subprocess.Popen([os.path.join(BIN, "captionacc"), "submit", clip_path, "--tenant", TENANT,
                                   "--wait", "--timeout", "500"], env=env, cwd=str(tmp_path),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # A --run-once worker polls once: start it only when the flow run exists.
        head = []
        while not (head and head[-1].startswith("flow run ")):
            line = submit.stdout.readline()
            assert line, f"submit ended early: {head} {submit.stderr.read()[-3000:]}"
            head.append(line.rstrip("\n"))
        # The Prefect worker starts elsewhere: the pull step must put the run in CAPTIONACC_APP_DIR.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        polled = subprocess.run([os.path.join(BIN, "prefect"), "worker", "start", "--pool", "captionacc",
                                 "--run-once", "--prefetch-seconds", "60"], env=env, cwd=str(elsewhere),
                                capture_output=True, text=True, timeout=600)
        out, err = submit.communicate(timeout=300)
        assert submit.returncode == 0, f"{out}\n{err}\n{polled.stdout[-4000:]}\n{polled.stderr[-4000:]}"
        out = "\n".join(head) + "\n" + out
        lines = out.splitlines()
        assert lines[0] == f"tenant {TENANT}" and lines[1].startswith("video ")
        video = lines[1].split()[1]
        assert any(line.startswith("flow run ") for line in lines) and "done: 2 captions" in out, out

        status = _cmd("captionacc", ["status", video], env, str(tmp_path), 120).stdout
        assert "status: active" in status and "caption_count: 2" in status, status
        _cmd("captionacc", ["fetch", video, "--out", str(tmp_path / "fetched")], env, str(tmp_path), 120)
        fetched = (tmp_path / "fetched" / "captions.srt").read_text(encoding="utf-8")
        assert "你好世界" in fetched and "第二句字幕" in fetched
        assert reference.wait(timeout=300) == 0, reference.stderr.read()
        assert fetched == (tmp_path / "local" / "captions.srt").read_text(encoding="utf-8")
        with open(worker.log_path, encoding="utf-8") as f:  # the worker says where its data is
            assert f"storage is the local directory {root}" in f.read()
    finally:
        for p in (submit, reference):
            if p is not None and p.poll() is None:
                p.kill()
        worker.stop()


def test_submit_refuses_a_bad_video_before_uploading(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    env = dict(os.environ, CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=str(tmp_path / "bucket"),
               CAPTIONACC_DATABASE_URL=f"sqlite:///{tmp_path / 'v.db'}")
    env.pop("PREFECT_API_URL", None)
    p = subprocess.run([os.path.join(BIN, "captionacc"), "submit", str(bad), "--wait"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.startswith("error: not a readable video"), p.stderr
    assert not (tmp_path / "bucket").exists() or not any((tmp_path / "bucket").rglob("*.mp4"))


def test_submit_says_at_once_when_redis_is_unreachable(tmp_path):
    import time

    env = dict(os.environ, CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=str(tmp_path / "bucket"),
               CAPTIONACC_DATABASE_URL=f"sqlite:///{tmp_path / 'v.db'}", CAPTIONACC_REDIS_URL="redis://127.0.0.1:1/0")
    env.pop("PREFECT_API_URL", None)
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(BIN, "captionacc"), "submit", clip_path_for_submit(tmp_path), "--wait"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 3 and p.stderr.strip() == (
        "error: Redis at 127.0.0.1:1 is unreachable (Error 111 connecting to 127.0.0.1:1. Connection refused.)"), p.stderr
    assert time.monotonic() - t0 < 10
    assert not (tmp_path / "bucket").exists()  # nothing uploaded for a cluster that is not there


def clip_path_for_submit(tmp_path) -> str:
    from tests.services.celery_workers import make_test_clip

    return make_test_clip(str(tmp_path / "clip.mp4"), duration=2.0)
