"""Real Celery workers as subprocesses (``python -m workers.cli_ops worker --gpu ...``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def worker_env(redis_url: str, storage_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(storage_env)
    env.update(
        CAPTIONACC_REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        CELERY_RESULT_BACKEND=redis_url,
        CAPTIONACC_DEVICE="cpu",
        OMP_NUM_THREADS="1",
        PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.update(extra)
    return env


class CeleryWorker:
    """One ``captionacc worker`` process (prefork, concurrency 1) in its own process group."""

    def __init__(self, gpu: str, env: dict[str, str], name: str | None = None,
                 queues: str | None = None, pool: str = "prefork", console_script: bool = False) -> None:
        self.gpu = gpu
        self.name = name or f"{gpu}-{uuid.uuid4().hex[:6]}@test"
        self.log_path = tempfile.mktemp(prefix=f"celery-{gpu}-", suffix=".log")
        script = os.path.join(os.path.dirname(sys.executable), "captionacc")
        # `captionacc worker` (the installed console script) or the module itself
        prog = [script] if console_script and os.access(script, os.X_OK) else [sys.executable, "-m", "workers.cli_ops"]
        cmd = prog + ["worker", "--gpu", gpu, "--name", self.name, "--pool", pool, "--concurrency", "1"]
        if queues:
            cmd += ["--queues", queues]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def log(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_ready(self, timeout: float = 60.0) -> "CeleryWorker":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.log()[-4000:]}")
            time.sleep(0.2)
        raise RuntimeError(f"worker {self.name} not ready in {timeout}s:\n{self.log()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children): a lost node."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
            except ProcessLookupError:
                pass
        self._log.close()


def start_workers(specs: list[tuple[str, dict]], timeout: float = 90.0) -> list[CeleryWorker]:
    """Start several workers at once (they boot in parallel), then wait for each."""
    workers = [CeleryWorker(gpu, env, **kw) for gpu, env, kw in
               ((s[0], s[1], s[2] if len(s) > 2 else {}) for s in specs)]
    try:
        for w in workers:
            w.wait_ready(timeout)
    except Exception:
        for w in workers:
            w.stop()
        raise
    return workers


# ---------------------------------------------------------------------------------------------
# A small generated clip with two captions, shared by the worker, dispatcher and flow tests.

TENANT = "11111111-1111-4111-8111-111111111111"
CAPTIONS = [(1.0, 3.0, "你好世界"), (4.0, 6.5, "第二句字幕")]
CROP = {"crop_left": 0.0, "crop_top": 0.6, "crop_right": 1.0, "crop_bottom": 1.0}


def make_test_clip(path: str, duration: float = 8.0) -> str:
    from synth.clip import make_clip

    if not os.path.exists(path):
        make_clip(path, CAPTIONS, duration=duration, width=320, height=180, background="synthetic")
    return path


def video_key(tenant: str, video: str) -> str:
    return f"{tenant}/client/videos/{video}/video.mp4"


# ---------------------------------------------------------------------------------------------
# The in-process reference run of the three jobs on the test clip, once per session.

VIDEO = "22222222-2222-4222-8222-222222222222"
OCR_RANGES = [(10, 30), (40, 65)]


def job_calls(video: str, chunks_prefix: str | None = None) -> list[tuple[str, dict]]:
    """(job, kwargs) of the reference calls; the caption OCR calls need the chunks prefix."""
    key = video_key(TENANT, video)
    if chunks_prefix is None:
        return [
            ("extract_frames_and_ocr", dict(video_key=key, tenant_id=TENANT, video_id=video, frame_rate=1.0)),
            ("crop_and_infer_caption_frame_extents", dict(video_key=key, tenant_id=TENANT, video_id=video,
                                                          crop_region=CROP)),
        ]
    return [("generate_caption_ocr", dict(chunks_prefix=chunks_prefix, start_frame=s, end_frame=e))
            for s, e in OCR_RANGES]


@pytest.fixture(scope="session")
def clip_path(tmp_path_factory):
    return make_test_clip(str(tmp_path_factory.mktemp("clip") / "clip.mp4"))


@pytest.fixture(scope="session")
def reference_run(clip_path, tmp_path_factory):
    """Results of the three jobs run in-process (no broker) on video ``VIDEO`` of a local bucket:
    a dict with ``results`` (job or (job, start_frame) → dict), ``keys`` (every object written),
    ``root`` and ``storage``."""
    from tasks.context import JobContext
    from tasks.storage import LocalStorage
    from workers.celery_tasks import call_job

    root = str(tmp_path_factory.mktemp("reference-bucket"))
    storage = LocalStorage(root)
    storage.put_file(video_key(TENANT, VIDEO), clip_path)
    with JobContext(storage=storage, device_name="cpu") as ctx:
        results: dict = {}
        for job, kw in job_calls(VIDEO):
            results[job] = call_job(job, kw, ctx)
        prefix = results["crop_and_infer_caption_frame_extents"]["cropped_frames_prefix"]
        for job, kw in job_calls(VIDEO, prefix):
            results[(job, kw["start_frame"])] = call_job(job, kw, ctx)
    return dict(results=results, keys=sorted(storage.list(TENANT)), root=root, storage=storage,
                prefix=prefix)


def release_results(app) -> None:
    """Drop the app's result subscriptions while the test's Redis is still up.

    AsyncResult.__del__ unsubscribes from its result channel; one collected after the test Redis
    has stopped would retry the connection for ~20 s. Call this in fixture teardowns."""
    import gc

    gc.collect()
    rc = getattr(app.backend, "result_consumer", None)
    if rc is not None:
        rc.stop()
        rc.subscribed_to.clear()


class OwnCluster:
    """A test's own Redis, a Celery app on it and a local bucket (see :func:`own_cluster`)."""

    def __init__(self, url: str, app, root: str) -> None:
        from tasks.storage import LocalStorage

        self.url, self.app, self.root = url, app, root
        self.storage = LocalStorage(root)
        self.workers: list[CeleryWorker] = []

    def send(self, job: str, kwargs: dict):
        """Send ``job`` as the dispatcher does: its queue and priority."""
        from workers.celery_app import send_job

        return send_job(self.app, job, kwargs)

    def start_worker(self, gpu: str, name: str, **extra_env: str) -> CeleryWorker:
        """One worker on this Redis and bucket, stopped with the cluster."""
        env = worker_env(self.url, dict(CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=self.root), **extra_env)
        [worker] = start_workers([(gpu, env, {"name": name})])
        self.workers.append(worker)
        return worker


@contextmanager
def own_cluster(root: str):
    """A fresh Redis (nothing queued by other tests), this process's Celery settings pointing at
    it while the block runs, an app made on it, and a local bucket at ``root``. On exit: results
    released, workers stopped, Redis killed, the environment restored."""
    from workers.celery_app import make_app

    from .redis_server import start_redis

    server = start_redis()
    url = server.url(0)
    names = ("CAPTIONACC_REDIS_URL", "CELERY_RESULT_BACKEND")
    old = {k: os.environ.get(k) for k in names}
    os.environ.update(dict.fromkeys(names, url))
    app = make_app()
    cluster = OwnCluster(url, app, root)
    try:
        yield cluster
    finally:
        release_results(app)
        for worker in cluster.workers:
            worker.stop()
        server.proc.kill()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
