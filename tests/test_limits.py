"""Limits on what one video may cost (gpu_kernels/limits.py): 8K is allowed, more is refused
with one line naming the limit, before any work, by the CLI and by the jobs workers run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tests.fixtures_media as fm
from gpu_kernels.errors import BadInput, InputTooLarge
from gpu_kernels.limits import Limits

EXE = str(Path(sys.executable).parent / "captionacc")


def test_limits_name_what_they_refuse():
    lim = Limits()
    lim.check(7680, 4320, 4 * 3600, 240)  # 8K, 4 h, 240 fps: real videos pass
    with pytest.raises(InputTooLarge, match="8192x8192.*CAPTIONACC_MAX_PIXELS") as e:
        lim.check(8192, 8192, 1, 30, name="v.mp4")
    assert isinstance(e.value, BadInput) and str(e.value).startswith("v.mp4: ")
    with pytest.raises(InputTooLarge, match="duration 3,600,000,000 s.*CAPTIONACC_MAX_DURATION_S"):
        lim.check(640, 360, 3.6e9, 30)
    with pytest.raises(InputTooLarge, match="1000 frames per second.*CAPTIONACC_MAX_FPS"):
        lim.check(640, 360, 10, 1000)
    Limits(max_pixels=10**9).check(8192, 8192, 1, 30)  # configurable


def _over_8k(path: str) -> str:
    return fm.h264(path, width=8192, height=8192, n=2, frame_fn=lambda j: np.full((8192, 8192, 3), 40, np.uint8))


def test_cli_refuses_a_frame_over_the_limit_before_any_work(tmp_path):
    video = _over_8k(str(tmp_path / "big.mp4"))
    out = tmp_path / "out"
    r = subprocess.run([EXE, "run", video, "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().splitlines() == [
        f"error: {video}: 8192x8192 frames (67,108,864 pixels) exceed the limit of 33,177,600 pixels "
        "(CAPTIONACC_MAX_PIXELS)"]
    assert not out.exists() or not any(out.iterdir())  # nothing copied, nothing published


def test_limits_are_settings(monkeypatch):
    from tasks.settings import Settings

    assert Settings().limits == Limits()
    monkeypatch.setenv("CAPTIONACC_MAX_PIXELS", str(8192 * 8192))
    monkeypatch.setenv("CAPTIONACC_MAX_DURATION_S", "60")
    lim = Settings().limits
    lim.check(8192, 8192, 60, 30)  # raised: the hostile geometry passes
    with pytest.raises(InputTooLarge, match="CAPTIONACC_MAX_DURATION_S"):
        lim.check(640, 360, 61, 30)


def test_jobs_apply_the_limits(tmp_path):
    """A worker's extract job refuses the upload itself (a hostile upload must not take a GPU
    node down), and publishes nothing."""
    from tasks.context import JobContext
    from tasks.extract import extract_frames_and_ocr
    from tasks.keys import VideoKeys
    from tasks.storage import LocalStorage

    tenant, video = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
    storage = LocalStorage(str(tmp_path / "bucket"))
    keys = VideoKeys(tenant, video)
    storage.put_file(keys.video, fm.h264(str(tmp_path / "c.mp4"), width=640, height=360, n=3))
    ctx = JobContext(storage=storage, limits=Limits(max_pixels=640 * 360 - 1))
    with pytest.raises(InputTooLarge, match="CAPTIONACC_MAX_PIXELS"):
        extract_frames_and_ocr(keys.video, tenant, video, ctx=ctx)
    assert not storage.list(keys.full_frames) and not storage.exists(keys.layout_db)
