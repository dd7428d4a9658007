"""The captionacc command as a user runs it: a real subprocess, exit codes, one-line errors."""

import os
import subprocess
import sys

import pytest

from .conftest import REPO

CLI = [sys.executable, "-m", "workers.cli"]


def _run(*args, cwd=REPO, env=None):
    return subprocess.run(CLI + list(args), cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, **(env or {})))


def _blank_clip(path, seconds=3, fps=10):
    import av
    import numpy as np

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 320, 180, "yuv420p"
        for i in range(seconds * fps):
            img = np.full((180, 320, 3), 90 + i % 7, np.uint8)
            c.mux(s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        c.mux(s.encode())


def test_run_writes_captions_and_summary(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    (out / "captions.srt").symlink_to(victim)  # planted: the output replaces it, never follows it
    # A malformed S3 or Modal variable belongs to another deployment: a local run warns and goes on.
    p = _run("run", os.path.join(REPO, "examples", "sample.mp4"), "--out", str(out), "-q", "--device", "cpu",
             env={"CAPTIONACC_S3_MAX_ATTEMPTS": "many", "CAPTIONACC_MODAL_DAILY_BUDGET_USD": "lots"})
    assert p.returncode == 0, p.stderr
    assert "ignoring the malformed setting CAPTIONACC_S3_MAX_ATTEMPTS" in p.stderr
    assert "ignoring the malformed setting CAPTIONACC_MODAL_DAILY_BUDGET_USD" in p.stderr
    assert victim.read_text() == "not yours" and not (out / "captions.srt").is_symlink()
    assert not [f for f in os.listdir(out) if f.endswith(".tmp")]
    assert "captions found: " in p.stdout and "wall time" in p.stdout
    srt = (out / "captions.srt").read_text(encoding="utf-8")
    assert "Welcome to CaptionAcc" in srt and "欢迎使用字幕提取" in srt
    assert (out / "captions.vtt").read_text(encoding="utf-8").startswith("WEBVTT")
    assert (out / "captions.db").stat().st_size > 0
    # Intermediate artefacts kept in the storage key layout.
    found = {os.path.relpath(os.path.join(d, f), out).split(os.sep, 1)[1] for d, _, fs in os.walk(out) for f in fs
             if os.path.relpath(d, out) != "."}
    assert any(k.startswith("client/videos/") and k.endswith("/layout.db.gz") for k in found)
    assert any(k.startswith("server/videos/") and k.endswith("/raw-ocr.db.gz") for k in found)
    assert any("/cropped_frames_v1/modulo_16/chunk_0000.webm" in k for k in found)


@pytest.mark.parametrize(
    "make, extra, message",
    [
        (lambda d: str(d / "nope.mp4"), [], "not found"),
        (lambda d: (d / "x.mp4").write_bytes(os.urandom(3000)) and str(d / "x.mp4"), [], "not a readable video"),
        (lambda d: (d / "t.mp4").write_bytes(open(os.path.join(REPO, "examples", "sample.mp4"), "rb").read()[:20000])
         and str(d / "t.mp4"), [], "video"),
        (lambda d: os.path.join(REPO, "examples", "sample.mp4"), ["--crop", "0.1,0.9,0.9,1.2"], "outside [0, 1]"),
        (lambda d: os.path.join(REPO, "examples", "sample.mp4"), ["--crop", "0.5,0.8,0.5,0.9"], "empty or inverted"),
        (lambda d: os.path.join(REPO, "examples", "sample.mp4"), ["--crop", "a,b"], "L,T,R,B"),
        (lambda d: os.path.join(REPO, "examples", "sample.mp4"), ["--crop", "9," * 60000], "L,T,R,B"),
        (lambda d: os.mkfifo(d / "fifo.mp4") or str(d / "fifo.mp4"), [], "not a regular file"),
        (lambda d: str(d), [], "not a regular file"),
        (lambda d: str(d / "new\nline.mp4"), [], "not found"),
    ],
)
def test_bad_input_one_line_error_nonzero_exit(tmp_path, make, extra, message):
    video = make(tmp_path)
    out = tmp_path / "out"
    p = _run("run", video, "--out", str(out), "-q", *extra)
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], p.stderr
    assert not (out / "captions.srt").exists()


def test_a_rerun_that_finds_no_caption_leaves_no_earlier_captions_behind(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("captions.srt", "captions.vtt", "captions.db"):
        (out / name).write_text("an earlier video's")
    _blank_clip(tmp_path / "blank.mp4")
    p = _run("run", str(tmp_path / "blank.mp4"), "--out", str(out), "-q", "--device", "cpu")
    assert p.returncode == 3, (p.stdout, p.stderr)
    assert "no captions found" in p.stderr and "removed captions.srt" in p.stderr
    assert not any((out / n).exists() for n in ("captions.srt", "captions.vtt", "captions.db"))


def test_video_id_covers_the_whole_file(tmp_path):
    """Same size, same first megabytes, a different tail (an edit list in a trailing moov):
    two videos, so a rerun into the same --out never returns the other one's captions."""
    from workers.cli import video_id_for

    head = os.urandom(3 << 20)
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    a.write_bytes(head + b"moov-one")
    b.write_bytes(head + b"moov-two")
    assert video_id_for(str(a)) != video_id_for(str(b))
    assert video_id_for(str(a)) == video_id_for(str(a))


def test_out_that_is_a_file_or_a_malformed_setting_is_one_line_and_exit_2(tmp_path):
    sample = os.path.join(REPO, "examples", "sample.mp4")
    (tmp_path / "afile").write_text("x")
    p = _run("run", sample, "--out", str(tmp_path / "afile"), "-q")
    assert p.returncode == 2 and p.stderr.strip().count("\n") == 0 and "is a file" in p.stderr, p.stderr
    env = dict(os.environ, CAPTIONACC_CHECK_EXTENTS="perhaps")
    p = subprocess.run(CLI + ["run", sample, "--out", str(tmp_path / "o"), "-q"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 2 and "invalid setting" in p.stderr and "CHECK_EXTENTS" in p.stderr, p.stderr
    assert p.stderr.strip().count("\n") == 0 and "Traceback" not in p.stderr
