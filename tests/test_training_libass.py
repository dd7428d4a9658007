"""libass training sequences: labels from the script, bit-reproducible, first footage halves only."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the training package (not installed)

from synth.ass import (EVAL_START_FRACTION, footage_dir, frame_at_or_after, has_subtitles_filter,  # noqa: E402
                       parse_script)
from training import libass_seqs as ls  # noqa: E402

if not (footage_dir() / ls.FOOTAGE[0]).exists():
    pytest.skip(f"no shared footage in {footage_dir()}", allow_module_level=True)
if not has_subtitles_filter():
    pytest.skip("ffmpeg has no libass 'subtitles' filter", allow_module_level=True)

SEED = 4242
BLOCK = 3  # japan_night_signs_vertical: the smallest frames, the fastest block

# Run in a fresh interpreter with its own cache: renders one block, prints a digest of every
# sequence's frames and ids.
_CHILD = """
import hashlib, json, sys
from training.libass_seqs import block_of, block_sequences
print(json.dumps([hashlib.sha256(s.frames.tobytes() + s.ids.tobytes()).hexdigest()
                  for s in block_sequences(*block_of(int(sys.argv[1]), int(sys.argv[2])))]))
"""


@pytest.fixture(scope="module")
def renders(tmp_path_factory):
    """One block rendered twice, each time with an empty cache: in a fresh interpreter, and here
    (after other work has dirtied this process's heap)."""
    child = tmp_path_factory.mktemp("libass_child")
    r = subprocess.run([sys.executable, "-c", _CHILD, str(BLOCK), str(SEED)], cwd=ROOT, check=True,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "CAPTIONACC_LIBASS_CACHE": str(child)})
    here = tmp_path_factory.mktemp("libass_here")
    os.environ["CAPTIONACC_LIBASS_CACHE"] = str(here)
    try:
        mine = [hashlib.sha256(s.frames.tobytes() + s.ids.tobytes()).hexdigest()
                for s in ls.block_sequences(*ls.block_of(BLOCK, SEED))]
    finally:
        del os.environ["CAPTIONACC_LIBASS_CACHE"]
    return [(here, mine), (child, json.loads(r.stdout))]


def test_same_seed_same_frames_across_processes(renders):
    (cache_a, a), (cache_b, b) = renders
    assert len(a) == ls.SEQS_PER_BLOCK and a == b
    clips = [next(c.glob("*/block.mp4")).read_bytes() for c in (cache_a, cache_b)]
    assert hashlib.sha256(clips[0]).digest() == hashlib.sha256(clips[1]).digest()


def test_sequences_shapes_and_labels(renders, monkeypatch):
    monkeypatch.setenv("CAPTIONACC_LIBASS_CACHE", str(renders[0][0]))  # rendered already: decode only
    seed, footage = ls.block_of(BLOCK, SEED)
    plan = ls.plan_block(seed, footage)
    seqs = list(ls.block_sequences(seed, footage))
    assert len(seqs) == ls.SEQS_PER_BLOCK
    w, h = plan.size
    for s in seqs:
        t, hh, ww, c = s.frames.shape
        assert (t, c) == (ls.SEQ_LEN, 3) and s.frames.dtype == np.uint8 and s.ids.shape == (ls.SEQ_LEN,)
        assert hh % 2 == 0 and ww % 2 == 0 and hh < h / 3 and ww <= w
        seen = [i for i in dict.fromkeys(s.ids.tolist()) if i >= 0]
        assert seen == list(range(len(s.texts)))  # numbered in order of appearance, as make_sequence
    # The labels follow the ASS events written to the script (timed on the 10 Hz grid).
    events = parse_script(plan.script).events
    k = 0
    for tr in plan.tracks:
        for e, (s, end, faded) in zip(events[k : k + len(tr.cues)], tr.cues):
            assert (frame_at_or_after(e.start, Fraction(10)), frame_at_or_after(e.end, Fraction(10))) == (s, end)
            assert (e.fad is not None) == faded
        k += len(tr.cues)
        covered = np.full(ls.BLOCK_FRAMES, -1)
        for i, (s, end, faded) in enumerate(tr.cues):
            covered[s:end] = i
            if not faded:  # a plain cue is a caption on exactly its frames
                assert (tr.frames[s:end] == i).all()
            else:  # a fade may leave faint (empty) frames at its ends only
                on = np.nonzero(tr.frames == i)[0]
                assert len(on) and (tr.frames[on.min() : on.max() + 1] == i).all()
                assert s - 1 <= on.min() and on.max() <= end
        plain = [not f for _, _, f in tr.cues]
        assert all(tr.frames[j] == -1 for j in range(ls.BLOCK_FRAMES) if covered[j] < 0
                   and not any(s - 1 <= j <= e and f for s, e, f in tr.cues))
        assert any(plain) and (tr.frames >= 0).any() and (tr.frames < 0).any()
    # Each sequence is a window of one track, its ids the track's renumbered (yielded as each
    # window's last frame is decoded).
    windows = sorted(((t.offset + j * ls.SEQ_LEN, t) for j in range(ls.WINDOWS) for t in plan.tracks),
                     key=lambda w: w[0])
    for s, (first, tr) in zip(seqs, windows):
        raw = tr.frames[first : first + ls.SEQ_LEN]
        assert ((s.ids >= 0) == (raw >= 0)).all()
        assert (np.diff(s.ids) != 0).tolist() == (np.diff(raw) != 0).tolist()
        assert s.texts == [tr.texts[i] for i in dict.fromkeys(raw.tolist()) if i >= 0]


def test_fades_are_labelled_by_drawn_opacity():
    rng = np.random.default_rng(0)
    for _ in range(200):
        s = int(rng.integers(1, 50))
        start, end, fad, ops = ls._timing(rng, s, s + int(rng.integers(4, 20)), True, True)
        assert all(o <= ls.FAINT or o >= ls.SOLID for o in ops)
        if fad is not None:
            assert ops[1] < 1.0 or ops[-2] < 1.0  # the fade shows on a sampled frame
    # a plain event: on exactly its frames, fully drawn
    start, end, fad, ops = ls._timing(rng, 5, 9, False, False)
    assert fad is None and ops == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]


def test_only_first_half_of_the_footage(renders):
    for b, name in enumerate(ls.FOOTAGE):
        plan = ls.plan_block(SEED + b, name)
        seg = ls.training_segment(name)
        assert plan.footage == name and plan.segment == (0.0, seg.footage.duration * EVAL_START_FRACTION)
        graph = plan.ffmpeg_args[plan.ffmpeg_args.index("-filter_complex") + 1]
        assert graph.startswith(f"[0:v]trim=start=0.000000:end={plan.segment[1]:.6f},")
        assert "-ss" not in plan.ffmpeg_args and graph.count("[0:v]") == 1
    # And in pixels: outside the caption bands, every rendered frame is closest to a frame of
    # the clip's first half.
    seed, footage = ls.block_of(BLOCK, SEED)
    plan = ls.plan_block(seed, footage)
    keep = np.ones(plan.size[1], bool)
    for tr in plan.tracks:
        keep[max(0, int(tr.band[1]) - 8) : int(tr.band[3]) + 8] = False
    half = ls.training_segment(footage).footage.duration * EVAL_START_FRACTION

    def thumbs(path):
        with av.open(str(path)) as c:
            for f in c.decode(video=0):
                yield f.time, f.to_ndarray(format="gray")[keep][::8, ::8].astype(np.float32)

    src = list(thumbs(footage_dir() / footage))
    ref = np.stack([t for _, t in src])
    first = np.array([tm < half for tm, _ in src])
    assert first.any() and (~first).any()
    clip = next(renders[0][0].glob("*/block.mp4"))
    for _, t in list(thumbs(clip))[::8]:
        err = ((ref - t) ** 2).mean(axis=(1, 2))
        assert first[int(np.argmin(err))]


def test_libass_fonts_are_training_fonts():
    ls.check_fonts_are_training_fonts()


def test_training_takes_model_size_frames(renders, monkeypatch):
    from training import train

    monkeypatch.setenv("CAPTIONACC_LIBASS_CACHE", str(renders[0][0]))
    out = train._render_libass((*ls.block_of(BLOCK, SEED), 5, 32, 256))
    assert len(out) == 5 and all(f.shape == (16, 32, 256, 3) and f.dtype == np.uint8 and i.shape == (16,)
                                 for f, i in out)
