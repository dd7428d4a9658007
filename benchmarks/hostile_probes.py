"""Issue 15's probes, as an attacker and a careless user would try them: each runs
``captionacc run`` on a generated file under a 6 GB address-space cap (``prlimit --as=6e9``)
and records exit code, first stderr line, the process's own peak RSS (measured from a small
parent: a child forked from a big process inherits its high-water mark) and wall time.

    .venv/bin/python benchmarks/hostile_probes.py            # prints a table, writes a JSON record

Not a test (tests/test_hostile_media.py and tests/test_limits.py hold the fast versions): this
one uses the issue's own sizes (8,000 1080p frames, a 10-hour still) and takes a few minutes.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
EXE = os.path.join(os.path.dirname(sys.executable), "captionacc")
SHARED = os.path.join(os.path.dirname(REPO), "shared", "data")
AS_LIMIT = 6 * 10**9


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def run(args: list[str], env: dict | None = None, cwd: str | None = None, timeout: float = 600) -> dict:
    from tests.test_hostile_media import run_measured

    rc, err, rss, wall = run_measured([EXE, *args], env={**os.environ, **(env or {})}, cwd=cwd, timeout=timeout,
                                      limit_as=AS_LIMIT)
    lines = err.strip().splitlines()
    return {"exit": rc, "stderr_lines": len(lines), "line": lines[0] if lines else "",
            "rss_mb": round(rss / 2**20), "wall_s": round(wall, 1)}


def probes(d: str) -> list[tuple[str, callable]]:
    """(name, function running the probe in directory ``d`` and returning its record)."""
    import numpy as np

    import tests.fixtures_media as fm
    from tests.test_hostile_media import header_lie, two_streams

    rvo = os.path.join(SHARED, "rvo_2.mp4")
    out = lambda name: os.path.join(d, "out_" + name)  # noqa: E731

    def burst():
        v = os.path.join(d, "burst.mp4")  # the command, verbatim
        ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=1920x1080:r=25:d=320", "-vf", "settb=1/1000000,setpts=N*10",
               "-fps_mode", "passthrough", "-enc_time_base", "1/1000000", "-video_track_timescale", "1000000",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", v)
        return run(["run", v, "--out", out("burst"), "-q"]) | {"file_kb": os.path.getsize(v) // 1024}

    def header():
        v = header_lie(os.path.join(d, "lie.mkv"), caption="Hello world")
        r = run(["run", v, "--out", out("lie"), "-q", "--lang", "zh"])
        srt = os.path.join(out("lie"), "captions.srt")
        return r | {"note": "SRT: " + (" / ".join(open(srt, encoding="utf-8").read().split("\n")[1:3])
                                       if os.path.exists(srt) else "none")}

    def day_gap():
        from tests.test_hostile_media import gap

        v = gap(os.path.join(d, "gap.mp4"), 86400)
        return run(["run", v, "--out", out("gap"), "-q"]) | {"file_kb": os.path.getsize(v) // 1024}

    def still_10h():
        v = os.path.join(d, "still.mp4")
        ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=320x240:r=1:d=36000", "-c:v", "libx264", "-preset", "ultrafast",
               "-pix_fmt", "yuv420p", v)
        return run(["run", v, "--out", out("still"), "-q"])

    def geometry():
        v = fm.h264(os.path.join(d, "big.mp4"), width=8192, height=8192, n=2,
                    frame_fn=lambda j: np.full((8192, 8192, 3), 40, np.uint8))
        return run(["run", v, "--out", out("big"), "-q"]) | {"file_kb": os.path.getsize(v) // 1024}

    def edit_list():
        v = os.path.join(d, "rvo.mp4")
        shutil.copyfile(rvo, v)
        e = os.path.join(d, "rvo_cut.mp4")
        ffmpeg("-ss", "1.3", "-i", v, "-c", "copy", e)
        first = run(["run", v, "--out", out("same"), "-q", "--lang", "zh"])
        srt_a = open(os.path.join(out("same"), "captions.srt"), encoding="utf-8").read()
        r = run(["run", e, "--out", out("same"), "-q", "--lang", "zh"])
        srt_b = open(os.path.join(out("same"), "captions.srt"), encoding="utf-8").read() if r["exit"] == 0 else ""
        return r | {"note": f"first run exit {first['exit']}; second SRT differs from first: {srt_a != srt_b}"}

    def symlink():
        o = out("link")
        os.makedirs(o)
        victim = os.path.join(d, "victim.txt")
        open(victim, "w").write("keep me\n")
        os.symlink(victim, os.path.join(o, "captions.srt"))
        r = run(["run", rvo, "--out", o, "-q", "--lang", "zh"])
        intact = open(victim).read() == "keep me\n"
        return r | {"note": f"victim intact: {intact}; "
                            f"captions.srt a symlink: {os.path.islink(os.path.join(o, 'captions.srt'))}"}

    def out_is_file():
        f = os.path.join(d, "afile")
        open(f, "w").close()
        return run(["run", rvo, "--out", f, "-q"])

    def bad_setting():
        return run(["run", rvo, "--out", out("bad"), "-q"], env={"CAPTIONACC_MAX_FPS": "fast"})

    def unrelated_s3_setting():
        return run(["run", rvo, "--out", out("s3"), "-q", "--lang", "zh"], env={"CAPTIONACC_S3_MAX_ATTEMPTS": "many"})

    def env_not_utf8():
        cwd = os.path.join(d, "envdir")
        os.makedirs(cwd)
        open(os.path.join(cwd, ".env"), "wb").write(b"CAPTIONACC_LANG=\xff\xfe\n")
        return run(["run", rvo, "--out", out("env"), "-q"], cwd=cwd)

    def fifo():
        f = os.path.join(d, "fifo.mp4")
        os.mkfifo(f)
        return run(["run", f, "--out", out("fifo"), "-q"])

    def dev_zero():
        return run(["run", "/dev/zero", "--out", out("zero"), "-q"])

    def newline_name():
        v = os.path.join(d, "bad\nname.mp4")
        open(v, "wb").write(b"not a video")
        return run(["run", v, "--out", out("nl"), "-q"])

    def huge_crop():
        return run(["run", rvo, "--out", out("crop"), "-q", "--crop", "0.1," * 30000])

    def cover_art():
        from PIL import Image

        cover = os.path.join(d, "cover.png")
        Image.new("RGB", (320, 320), (200, 30, 30)).save(cover)
        v = os.path.join(d, "with_cover.mkv")
        ffmpeg("-i", cover, "-i", rvo, "-map", "0", "-map", "1:v", "-c:v:0", "png", "-c:v:1", "copy",
               "-disposition:v:0", "attached_pic", v)
        return run(["run", v, "--out", out("cover"), "-q", "--lang", "zh"])

    def stream_n():
        v = two_streams(os.path.join(d, "two.mkv"))
        return run(["run", v, "--out", out("stream"), "-q", "--stream", "7"])

    def truncated():
        v = fm.cut_mid_mdat(rvo, os.path.join(d, "cut.mp4"))
        return run(["run", v, "--out", out("cut"), "-q"])

    return [("8,000 1080p frames 10 µs apart (326 KB)", burst),
            ("2-s MKV whose header says 3.6e9 s", header),
            ("1-day timestamp gap", day_gap),
            ("10-hour still at 1 fps", still_10h),
            ("8192x8192, 2 frames", geometry),
            ("same clip re-cut (edit list) into the same --out", edit_list),
            ("planted symlink out/captions.srt -> a file", symlink),
            ("--out an existing file", out_is_file),
            ("malformed CAPTIONACC_MAX_FPS", bad_setting),
            ("malformed S3 setting, local run", unrelated_s3_setting),
            (".env not UTF-8", env_not_utf8),
            ("a FIFO as the video", fifo),
            ("/dev/zero as the video", dev_zero),
            ("file name with a newline", newline_name),
            ("120 KB --crop", huge_crop),
            ("cover art as stream 0", cover_art),
            ("--stream 7 of a two-stream file", stream_n),
            ("MP4 cut mid-mdat", truncated)]


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory(prefix="hostile-") as d:
        for name, fn in probes(d):
            r = fn()
            rows.append({"probe": name, **r})
            print(f"| {name} | {r['exit']} | {r['line'][:110]} | {r['rss_mb']} MB | {r['wall_s']} s |"
                  + (f" {r['note']}" if r.get("note") else ""), flush=True)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%S")
    path = os.path.join(HERE, "results", f"hostile_{stamp}.json")
    with open(path, "w") as f:
        json.dump({"as_limit": AS_LIMIT, "probes": rows}, f, indent=1, ensure_ascii=False)
    print("wrote", path)


if __name__ == "__main__":
    main()
