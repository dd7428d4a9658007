"""The test run keeps its children off real-time scheduling (tests/conftest.py): a child put on
SCHED_FIFO from outside is back on SCHED_OTHER within a few seconds."""

import os
import subprocess
import time

import pytest


@pytest.mark.skipif(not hasattr(os, "sched_setscheduler") or not os.path.isdir("/proc"), reason="Linux only")
def test_a_child_put_on_fifo_is_put_back():
    child = subprocess.Popen(["sleep", "30"])
    try:
        try:
            os.sched_setscheduler(child.pid, os.SCHED_FIFO, os.sched_param(1))
        except PermissionError:
            pytest.skip("no permission to set real-time scheduling here")
        deadline = time.monotonic() + 10
        while os.sched_getscheduler(child.pid) != os.SCHED_OTHER and time.monotonic() < deadline:
            time.sleep(0.2)
        assert os.sched_getscheduler(child.pid) == os.SCHED_OTHER
    finally:
        child.kill()
        child.wait()
