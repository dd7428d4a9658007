"""Hostile media (issue 15's probes): tiny files that claim or contain huge timelines are
refused from what their packets say, in bounded memory and time, with one line and exit 2;
what the decoder keeps per 10 Hz window is capped; a job's writes are capped; ``--stream N``
picks the stream."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

import tests.fixtures_media as fm
from gpu_kernels.errors import InputTooLarge, InvalidVideo
from gpu_kernels.limits import Limits
from gpu_kernels.video import MAX_WINDOW_FRAMES, chosen_stream, iter_grid_windows, probe, remux_stream

EXE = str(Path(sys.executable).parent / "captionacc")
RSS_BOUND = 1.5 * 2**30  # the bound for every hostile file


def _flat(j: int, w: int = 320, h: int = 180) -> np.ndarray:
    return np.full((h, w, 3), (j * 7) % 256, np.uint8)


def burst(path: str, n: int = 400) -> str:
    """``n`` frames 10 µs apart between two 10 Hz samples, then a second at 10 fps: the issue's
    326 KB file in small (there 8,000 1080p frames)."""
    pts = [0] + [50_000 + k * 10 for k in range(n)] + [200_000 + k * 100_000 for k in range(10)]
    return fm.h264(path, width=320, height=180, n=len(pts), pts=pts,
                   time_base=Fraction(1, 1_000_000), fps=25, frame_fn=_flat)


def gap(path: str, seconds: float) -> str:
    """One second of 10 fps video, a jump of ``seconds``, one more second."""
    ms = [k * 100 for k in range(10)] + [int(seconds * 1000) + 900 + k * 100 for k in range(10)]
    return fm.h264(path, width=320, height=180, n=20, pts=ms, time_base=Fraction(1, 1000), fps=10, frame_fn=_flat)


def header_lie(path: str, claimed_s: float = 3.6e9, caption: str | None = None) -> str:
    """A 2-s Matroska file whose Segment Duration claims ``claimed_s``; ``caption`` burns one in."""
    look = {"caption": caption, "width": 640, "height": 360} if caption else {"frame_fn": _flat, "width": 320,
                                                                              "height": 180}
    src = fm.h264(path + ".src.mkv", n=20, **look)
    data = bytearray(Path(src).read_bytes())
    at = data.find(b"\x44\x89\x88")  # Duration, an 8-byte float in TimecodeScale units (1 ms)
    assert at > 0
    data[at + 3:at + 11] = struct.pack(">d", claimed_s * 1000)
    Path(path).write_bytes(bytes(data))
    os.unlink(src)
    return path


# Runs the command and prints its peak RSS: measured from a small process, because a child
# forked from a big one (pytest holds ~1.7 GB by the end of the suite) carries that parent's
# high-water mark into its own ru_maxrss across exec.
_MEASURE = ("import resource, subprocess, sys\n"
            "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
            "sys.exit(rc)\n")


def run_measured(argv: list[str], env: dict | None = None, cwd: str | None = None,
                 timeout: float = 120, limit_as: int | None = None) -> tuple[int, str, int, float]:
    """(exit code, stderr, the command's own peak RSS in bytes, seconds); ``limit_as`` caps its
    address space (as ``prlimit --as``)."""
    prefix = [sys.executable, "-c", _MEASURE]
    if limit_as:
        prefix = ["prlimit", f"--as={limit_as}", "--"] + prefix
    t0 = time.monotonic()
    p = subprocess.run(prefix + argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    rss = int(p.stdout.strip().splitlines()[-1]) if p.stdout.strip() else 0
    return p.returncode, p.stderr, rss, time.monotonic() - t0


def _run(args: list[str], timeout: float = 120) -> tuple[int, str, int, float]:
    """Run the CLI: (exit code, stderr, its own peak RSS in bytes, seconds)."""
    return run_measured([EXE, *args], timeout=timeout)


@pytest.mark.parametrize("make, expect", [
    (burst, r"40\d frames per second exceed the limit of 240 \(CAPTIONACC_MAX_FPS\)"),
    (lambda p: gap(p, 86400), r"duration 86,402 s exceeds the limit of 14,400 s \(CAPTIONACC_MAX_DURATION_S\)"),
    (lambda p: gap(p, 400), r"no new frame for 400 s after 0.9 s exceeds the limit of 300 s \(CAPTIONACC_MAX_GAP_S\)"),
])
def test_a_crafted_timeline_is_refused_from_its_packets(tmp_path, make, expect):
    video = make(str(tmp_path / "v.mp4"))
    out = tmp_path / "out"
    rc, err, rss, secs = _run(["run", video, "--out", str(out), "-q"])
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {video}: "), err
    assert re.search(expect, lines[0]), lines[0]
    assert rss < RSS_BOUND and secs < 60
    assert not out.exists() or not any(out.iterdir())  # nothing copied, nothing published


def test_a_header_that_lies_about_the_duration_is_measured_not_believed(tmp_path):
    info = probe(header_lie(str(tmp_path / "lie.mkv")), Limits())  # passes the 4-h limit: it lasts 2 s
    assert info.header_duration == pytest.approx(3.6e9)
    assert info.duration == pytest.approx(2.0, abs=0.15) and info.peak_fps == 10


def test_a_normal_video_keeps_its_header_duration(tmp_path):
    info = probe(fm.h264(str(tmp_path / "n.mp4"), n=30, fps=25, frame_fn=_flat), Limits())
    assert info.duration == pytest.approx(1.2) and info.header_duration == 0.0
    assert info.peak_fps == 25 and info.max_gap == pytest.approx(0.04)


def test_the_decoder_caps_each_window_and_refuses_what_the_probe_missed(tmp_path):
    video = burst(str(tmp_path / "b.mp4"))
    loose = Limits(max_fps=1e9)  # what a careless setting allows: the ring still bounds memory
    got = list(iter_grid_windows(video, 10.0, lambda f: f.pts, limits=loose))
    sizes = [len(w) for _, _, w in got]
    assert sizes[:3] == [1, MAX_WINDOW_FRAMES, 1] and len(got) == 12
    held = got[1][2]  # sample 1 (0.1 s) follows the burst: its newest frames, in order
    assert [pts for _, pts in held] == [50_000 + k * 10 for k in range(400 - MAX_WINDOW_FRAMES, 400)]
    assert held[-1][1] == got[1][1]  # ... ending with the sample's own frame
    with pytest.raises(InputTooLarge, match="CAPTIONACC_MAX_GAP_S"):
        list(iter_grid_windows(gap(str(tmp_path / "g.mp4"), 400), 10.0, lambda f: None))


def test_a_job_stops_at_its_output_budget(tmp_path):
    from tasks.context import JobContext
    from tasks.extract import extract_frames_and_ocr
    from tasks.keys import VideoKeys
    from tasks.storage import LocalStorage
    from tests.test_bad_inputs import NullOcr

    tenant, video = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
    storage = LocalStorage(str(tmp_path / "bucket"))
    keys = VideoKeys(tenant, video)
    storage.put_file(keys.video, fm.h264(str(tmp_path / "c.mp4"), width=640, height=360, n=30))
    ctx = JobContext(storage=storage, lang="zh", limits=Limits(max_output_bytes=60_000))
    ctx._ocr = NullOcr()
    with pytest.raises(InputTooLarge, match=r"exceed the limit of 60,000 bytes per job \(CAPTIONACC_MAX_OUTPUT_BYTES\)"):
        extract_frames_and_ocr(keys.video, tenant, video, ctx=ctx)
    written = sum(os.path.getsize(storage.path(k)) for k in storage.list(keys.client))
    assert 0 < written - os.path.getsize(storage.path(keys.video)) <= 60_000
    assert not storage.exists(keys.layout_db)


def test_limit_flags_override_the_settings(tmp_path):
    video = fm.h264(str(tmp_path / "v.mp4"), width=320, height=180, n=5, frame_fn=_flat)
    rc, err, _, _ = _run(["run", video, "--out", str(tmp_path / "o"), "--max-pixels", "1000"])
    assert rc == 2 and "exceed the limit of 1,000 pixels (CAPTIONACC_MAX_PIXELS)" in err, err
    rc, err, _, _ = _run(["run", video, "--out", str(tmp_path / "o"), "--max-fps", "0"])
    assert rc == 2 and err.strip() == "error: --max-fps must be positive (got 0)", err


def two_streams(path: str) -> str:
    """Matroska with a 160x90 video stream first and a 320x180 one second."""
    with av.open(path, "w") as out:
        small, big = out.add_stream("libx264", rate=10), out.add_stream("libx264", rate=10)
        for s, (w, h) in ((small, (160, 90)), (big, (320, 180))):
            s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for j in range(10):
            for s in (small, big):
                f = av.VideoFrame.from_ndarray(_flat(j, s.width, s.height), format="rgb24")
                f.pts = j
                for p in s.encode(f):
                    out.mux(p)
        for s in (small, big):
            for p in s.encode():
                out.mux(p)
    return path


def test_stream_n_picks_the_stream(tmp_path):
    from workers.cli import video_id_for

    video = two_streams(str(tmp_path / "two.mkv"))
    assert probe(video).width == 320  # by default the largest
    assert chosen_stream(video, 0) == "stream 0 (h264 160x90)"
    remux_stream(video, 0, str(tmp_path / "s0.mkv"))
    info = probe(str(tmp_path / "s0.mkv"))
    assert (info.width, info.height) == (160, 90) and info.duration == pytest.approx(1.0)
    with pytest.raises(InvalidVideo, match=r"no video stream 5 in .*; its video streams: 0 \(160x90\), 1 \(320x180\)"):
        chosen_stream(video, 5)
    assert len({video_id_for(video), video_id_for(video, 0), video_id_for(video, 1)}) == 3
    rc, err, _, _ = _run(["run", video, "--out", str(tmp_path / "o"), "--stream", "5"])
    assert rc == 2 and err.startswith("error: no video stream 5 in ") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
