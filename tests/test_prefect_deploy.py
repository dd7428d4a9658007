"""The repository's own prefect.yaml, as an operator uses it: ``prefect deploy --all`` against a
real Prefect server, a real process worker picking the run up from another directory, the flow
run's GPU jobs on a real Celery worker, captions published and the videos row ``active``."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from tests.services.celery_workers import TENANT, clip_path, start_workers, video_key, worker_env  # noqa: F401
from tests.services.prefect_server import prefect_server  # noqa: F401 - fixture
from tests.services.redis_server import redis_server  # noqa: F401 - fixture

from .conftest import REPO

PREFECT = os.path.join(os.path.dirname(sys.executable), "prefect")
DEPLOYMENT = "captionacc-process-video/captionacc-process-video"


def _prefect(args: list[str], env: dict, cwd: str, timeout: float) -> subprocess.CompletedProcess:
    p = subprocess.run([PREFECT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"prefect {' '.join(args)}: {p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    return p


def test_prefect_yaml_deploys_and_a_process_worker_runs_the_whole_video(
        prefect_server, redis_server, clip_path, tmp_path):  # noqa: F811
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    from tasks.keys import VideoKeys
    from tasks.storage import LocalStorage
    from workers.videos_db import VideoStore

    root = str(tmp_path / "bucket")
    storage = LocalStorage(root)
    video = str(uuid.uuid4())
    storage.put_file(video_key(TENANT, video), clip_path)
    database_url = f"sqlite:///{tmp_path / 'videos.db'}"
    redis_server.client(3).flushdb()
    base = worker_env(redis_server.url(3), dict(CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=root),
                      CAPTIONACC_WARM_MODELS="")
    env = dict(base, PREFECT_API_URL=PREFECT_API_URL.value(), CAPTIONACC_APP_DIR=REPO,
               CAPTIONACC_DATABASE_URL=database_url, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    (worker,) = start_workers([("a10g", base, {"name": "a10g-deploy@test"})])
    try:
        _prefect(["work-pool", "create", "captionacc", "--type", "process", "--overwrite"], env, REPO, 120)
        _prefect(["--no-prompt", "deploy", "--all", "--prefect-file", "prefect.yaml"], env, REPO, 300)
        with get_client(sync_client=True) as client:
            deployed = {d.name: d for d in client.read_deployments()}
        assert {"captionacc-video-initial-processing", "captionacc-crop-and-infer-caption-frame-extents",
                "captionacc-caption-ocr", "captionacc-process-video"} <= set(deployed)
        assert deployed["captionacc-process-video"].entrypoint == "workers.flows.process_video"
        run = run_deployment(DEPLOYMENT, timeout=0, parameters=dict(
            video_id=video, tenant_id=TENANT, storage_key=video_key(TENANT, video), frame_rate=1.0))
        # The worker starts elsewhere: the pull step must put the run in CAPTIONACC_APP_DIR.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        polled = _prefect(["worker", "start", "--pool", "captionacc", "--run-once", "--prefetch-seconds", "60"],
                          env, str(elsewhere), 600)
        with get_client(sync_client=True) as client:
            state = client.read_flow_run(run.id).state
        assert state.is_completed(), f"{state.type} {state.message}\n{polled.stdout[-4000:]}\n{polled.stderr[-4000:]}"
        with VideoStore(database_url) as store:
            row = store.get(video)
        assert (row["status"], row["caption_count"]) == ("active", 2)
        srt = storage.get_bytes(VideoKeys(TENANT, video).captions_srt).decode()
        assert "你好世界" in srt and "第二句字幕" in srt
    finally:
        worker.stop()
