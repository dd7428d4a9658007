"""benchmarks/gpu_check.py runs end to end. This machine has no GPU, so it runs on the CPU
(``--device cpu``) on a 6-s clip: every step must produce its figures, not an error, so the
script is ready the day a GPU is lent (``status`` of the device tool)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))


def test_gpu_check_runs_every_step_on_the_cpu(tmp_path):
    out = tmp_path / "record.json"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gpu_check.py"), "--device", "cpu",
                        "--minutes", "0.1", "--batches", "32", "--reps", "1", "--vp9-frames", "60", "--out", str(out)],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    rec = json.loads(out.read_text())
    assert rec["device"]["device"] == "cpu" and rec["decode"]["frames"] == 180  # 6 s at 30 fps
    assert rec["decode"]["software_fps"] > 0 and "nvdec_fps" not in rec["decode"]
    assert rec["model"]["fp32_b32"] > 0 and rec["model"]["fp16_b32"] == "n/a on cpu"
    assert rec["vp9"]["fps"] > 0 and rec["vp9"]["frames"] == 60
    p = rec["pipeline"]
    assert p["captions"] >= 2 and p["score"]["recall"] >= 0.9 and set(p["stages_s"]) >= {"extract", "crop_infer"}
    assert rec["cost"]["gpu_hours_per_video_hour"] == round(p["wall_s"] / p["video_s"], 3)
    assert rec["cost"]["modal_a10g_usd_per_video_hour"] > rec["cost"]["modal_t4_usd_per_video_hour"] > 0


def test_captions_are_compared_cue_by_cue(tmp_path):
    from gpu_check import same_captions

    a = tmp_path / "a.srt"
    b = tmp_path / "b.srt"
    a.write_text("1\n00:00:01,000 --> 00:00:02,000\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\nWorld\n")
    b.write_text("1\n00:00:01,000 --> 00:00:02,100\nHello\n\n2\n00:00:03,000 --> 00:00:04,000\nWorld\n")
    assert same_captions(str(a), str(a))["identical"]
    got = same_captions(str(a), str(b))
    assert not got["identical"] and got["same_texts"] and got["cues"] == got["reference_cues"] == 2
