"""Shared fixtures: generated clips with known captions, one OCR engine per test session."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


def _leave_realtime_scheduling() -> None:
    """Run the suite at normal priority even when launched under SCHED_FIFO/RR (seen on a
    sandbox here: pytest came up FIFO 99). Every service the tests start inherits the policy,
    and on 2 cores a real-time thread that spins (SeaweedFS's Go runtime, an OpenMP pool) never
    yields: the suite stalls until its time limit."""
    if hasattr(os, "sched_getscheduler") and os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR):
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


_leave_realtime_scheduling()


def _keep_children_off_realtime(period: float = 2.0) -> None:
    """The same for every process this run starts, for the whole run: on the same sandbox a
    test's `captionacc` child, SeaweedFS and Redis were later found under SCHED_FIFO 99 set from
    outside (ONNX Runtime's spinning threads then took both cores for 24 minutes). A daemon
    thread puts any descendant of this process back on SCHED_OTHER every ``period`` seconds."""
    if not (hasattr(os, "sched_getscheduler") and os.path.isdir("/proc")):
        return
    import threading
    import time

    me = os.getpid()

    def parent_of(pid: int) -> int:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return int(f.read().rsplit(b")", 1)[1].split()[1])

    def loop() -> None:
        while True:
            time.sleep(period)
            try:
                parents = {}
                for name in os.listdir("/proc"):
                    if name.isdigit():
                        try:
                            parents[int(name)] = parent_of(int(name))
                        except (OSError, ValueError, IndexError):
                            pass
                for pid in parents:
                    p, hops = pid, 0
                    while p > 1 and p != me and hops < 64:
                        p, hops = parents.get(p, 0), hops + 1
                    if p == me:
                        try:
                            if os.sched_getscheduler(pid) in (os.SCHED_FIFO, os.SCHED_RR):
                                os.sched_setscheduler(pid, os.SCHED_OTHER, os.sched_param(0))
                        except OSError:
                            pass
                _leave_realtime_scheduling()
            except Exception:  # noqa: BLE001 - a watchdog of the test run must never fail it
                pass

    threading.Thread(target=loop, name="leave-realtime", daemon=True).start()


_keep_children_off_realtime()

# One Prefect server per run (~25 s to start): a session fixture imported into two test modules
# would be two fixtures, and two servers.
from tests.services.prefect_server import prefect_server  # noqa: E402,F401 - fixture


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """The pipeline freezes the heap once its models are loaded (tasks.context.settle_heap),
    right for a worker or a CLI run, not for this one long process: what a test leaves behind
    in a reference cycle (a Celery AsyncResult, whose __del__ talks to Redis) must still be
    collected by its teardown, which runs after this, not at exit."""
    yield
    import gc

    gc.unfreeze()


REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared")

TENANT = "5f0c6a4e-1b2c-4d3e-8f90-a1b2c3d4e5f6"
VIDEO = "0d9b2f4c-7e6a-4b1d-9c8e-f0e1d2c3b4a5"

# Clip with a short caption, back-to-back captions, Chinese text and a gap, over real footage.
CAPTIONS_MIXED = [
    (0.5, 1.8, "Hello there"),
    (1.8, 3.0, "你好世界"),
    (3.6, 4.0, "Go!"),
    (4.6, 6.2, "The end is near"),
]


@pytest.fixture(scope="session")
def clips_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def mixed_clip(clips_dir):
    """(path, truth) of a 7 s 640x360 H.264 clip with B-frames and four known captions."""
    from synth.clip import make_clip

    path = str(clips_dir / "mixed.mp4")
    truth = make_clip(path, CAPTIONS_MIXED, duration=7.0, seed=1)
    return path, truth


@pytest.fixture(scope="session")
def ocr_engine():
    from tasks.ocr import open_ocr

    engine = open_ocr("rapidocr")
    yield engine
    engine.close()


@pytest.fixture
def storage(tmp_path):
    from tasks.storage import LocalStorage

    return LocalStorage(tmp_path / "bucket")


@pytest.fixture
def ctx(storage, ocr_engine):
    """A job context on a fresh local bucket that reuses the session's OCR engine."""
    from tasks.context import JobContext

    c = JobContext(storage=storage, device_name="cpu")
    c._ocr = ocr_engine
    return c


@pytest.fixture
def uploaded(storage, mixed_clip):
    """The mixed clip stored at its video key; returns (VideoKeys, truth)."""
    from tasks.keys import VideoKeys

    keys = VideoKeys(TENANT, VIDEO)
    storage.put_file(keys.video, mixed_clip[0])
    return keys, mixed_clip[1]


def load_scorer():
    """../shared/score.py, the product's caption scorer."""
    import importlib.util

    path = os.path.join(SHARED, "score.py")
    if not os.path.exists(path):
        pytest.skip("../shared/score.py is not beside the repository")
    spec = importlib.util.spec_from_file_location("shared_score", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["shared_score"] = mod
    spec.loader.exec_module(mod)
    return mod
