"""Idempotency and atomicity under SIGKILL.

A job runs in a real subprocess and is killed with SIGKILL — by a storage wrapper at an exact
point (before/while/after a given object is written) or by the test polling storage from
outside. Afterwards storage must hold the previous complete outputs or the new complete ones,
never a mix, and a version without a manifest must never read as complete.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from unittest.mock import ANY

import numpy as np
import pytest

import tests.fixtures_media as fm
from gpu_kernels.errors import MissingObject
from tasks.chunks import ChunkReader, load_manifest
from tasks.crop_infer import crop_and_infer_caption_frame_extents, load_predictions
from tasks.databases import open_db
from tasks.extract import extract_frames_and_ocr
from tasks.keys import VideoKeys
from tasks.storage import LocalStorage
from tasks.types import CropRegion

from .conftest import REPO, TENANT, VIDEO
from .test_bad_inputs import NullOcr

OLD = CropRegion(0.0, 0.0, 1.0, 1.0)  # the previous complete run
NEW = CropRegion(0.0, 0.5, 1.0, 1.0)  # the run that gets killed: a different crop, so a mix shows

# A zygote: imports the product once (torch and all, ~3 s on a busy machine), then forks one
# real child process per job. KILL (JSON) says where the child SIGKILLs itself; the test can
# also SIGKILL it from outside. Protocol on stdin/stdout, one JSON object per line:
#   in: {"args": {...}, "kill": {...} | null}   out: {"started": pid}, then {"pid", "signal", "code"}
DRIVER = r"""
import json, os, signal, sys, tempfile
sys.path.insert(0, os.environ["REPO"])
from tasks.storage import LocalStorage
from tasks.context import JobContext
from tasks.ocr.base import OcrEngine
from tasks.crop_infer import crop_and_infer_caption_frame_extents
from tasks.extract import extract_frames_and_ocr
from tasks.keys import VideoKeys
from tasks.pipeline import Caption, publish_captions
from gpu_kernels.extents import get_predictor

PREDICTOR = get_predictor("classical")

def die():
    os.kill(os.getpid(), signal.SIGKILL)

class KillingStorage(LocalStorage):
    spec = None
    seen = 0

    def _maybe(self, key, when, put):
        spec = self.spec
        if spec and spec["match"] in key:
            if when == "before":
                KillingStorage.seen += 1
            if KillingStorage.seen == spec.get("nth", 1) and spec["when"] == when:
                if when == "during":  # what a crash inside _atomic_write leaves: a half temp file
                    d = os.path.dirname(self.path(key))
                    os.makedirs(d, exist_ok=True)
                    fd, _ = tempfile.mkstemp(prefix=".partial-", dir=d)
                    os.write(fd, b"half")
                    os.fsync(fd)
                die()
        if when == "before":
            self._maybe(key, "during", put)
            put()
            self._maybe(key, "after", put)

    def put_file(self, key, path, content_type=None):
        self._maybe(key, "before", lambda: LocalStorage.put_file(self, key, path, content_type))

    def put_bytes(self, key, data, content_type=None):
        self._maybe(key, "before", lambda: LocalStorage.put_bytes(self, key, data, content_type))

class NullOcr(OcrEngine):
    name = "null"
    def recognize(self, image):
        return []

def run(args):
    storage = KillingStorage(args["root"])
    ctx = JobContext(storage=storage, device_name="cpu", predictor_name="classical")
    ctx._ocr, ctx._predictor = NullOcr(), PREDICTOR
    job = args["job"]
    if job == "crop":
        crop_and_infer_caption_frame_extents(args["video_key"], args["tenant"], args["video"], args["region"], ctx=ctx)
    elif job == "extract":
        extract_frames_and_ocr(args["video_key"], args["tenant"], args["video"], ctx=ctx)
    elif job == "captions":
        caps = [Caption(s, e, s / 10, e / 10, t, 0.9, 5) for s, e, t in args["captions"]]
        publish_captions(storage, VideoKeys(args["tenant"], args["video"]), caps, "m", "null")

for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            KillingStorage.spec = req["kill"]
            run(req["args"])
        except BaseException as e:
            sys.stderr.write(f"job failed: {e!r}\n")
            code = 1
        finally:
            os._exit(code)
    print(json.dumps({"started": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"pid": pid, "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
                      "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}), flush=True)
"""


class Zygote:
    def __init__(self) -> None:
        env = dict(os.environ, REPO=REPO, OMP_NUM_THREADS="1")
        self.p = subprocess.Popen([sys.executable, "-c", DRIVER], cwd=REPO, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, bufsize=1)

    def start(self, args: dict, kill: dict | None = None) -> int:
        self.p.stdin.write(json.dumps({"args": args, "kill": kill}) + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())["started"]

    def wait(self) -> dict:
        line = self.p.stdout.readline()
        assert line, "the zygote died"
        return json.loads(line)

    def run(self, args: dict, kill: dict | None = None) -> dict:
        self.start(args, kill)
        return self.wait()

    def close(self) -> None:
        self.p.stdin.close()
        self.p.wait(timeout=30)


@pytest.fixture(scope="module")
def zygote():
    z = Zygote()
    yield z
    z.close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """13 s at 10 fps, 160x90: five level-1 chunks, so a kill can land between chunks."""
    return fm.h264(str(tmp_path_factory.mktemp("atom") / "clip.mp4"), n=130,
                   options={"g": "50", "bf": "2", "preset": "ultrafast"})


@pytest.fixture(scope="module")
def before(tmp_path_factory, clip):
    """A bucket holding the video and one complete crop+infer run (v1, the OLD crop)."""
    root = tmp_path_factory.mktemp("before") / "bucket"
    st = LocalStorage(root)
    keys = VideoKeys(TENANT, VIDEO)
    st.put_file(keys.video, clip)
    crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, OLD, ctx=_ctx(st))
    return str(root)


def _ctx(storage):
    from tasks.context import JobContext

    c = JobContext(storage=storage, device_name="cpu", predictor_name="classical")
    c._ocr = NullOcr()
    return c


def _fresh(before: str, tmp_path) -> LocalStorage:
    root = tmp_path / "bucket"
    shutil.copytree(before, root)
    return LocalStorage(root)


def _versions(storage, keys) -> set[int]:
    return {int(m.group(1)) for k in storage.list(keys.client)
            if (m := re.search(r"/cropped_frames_v(\d+)/", k))}


def assert_consistent(storage: LocalStorage, keys: VideoKeys) -> int:
    """The extents database names one version; that version is whole and made with the same
    crop; every other version either is whole too or reads as missing. Returns the live one."""
    with open_db(storage, keys.caption_frame_extents_db) as conn:
        probs, meta = load_predictions(conn)
    live = meta["cropped_frames_version"]
    prefix = keys.cropped_frames(live)
    manifest = load_manifest(storage, prefix)
    assert manifest["crop_region"] == {"crop_left": meta["crop_left"], "crop_top": meta["crop_top"],
                                       "crop_right": meta["crop_right"], "crop_bottom": meta["crop_bottom"]}
    with ChunkReader(storage, prefix) as reader:
        n = reader.frame_count
        idx, frames = reader.frames(0, n, want=n)
    assert idx == list(range(n)) and len(probs) == n - 1 == meta["total_pairs"]
    box = manifest["crop_box"]
    assert frames.shape[1:3] == (box[3] - box[1], box[2] - box[0])
    for v in _versions(storage, keys) - {live}:
        p = keys.cropped_frames(v)
        if storage.exists(p + "/manifest.json"):
            with ChunkReader(storage, p) as r:  # a whole, older or newer-but-unpublished version
                r.frames(0, r.frame_count, want=r.frame_count)
        else:
            with pytest.raises(MissingObject):
                ChunkReader(storage, p)
    assert not any("/.partial-" in k for k in storage.list(TENANT))  # temp files never listed
    return live


KILL_POINTS = {
    "before_first_chunk": {"match": ".webm", "when": "before", "nth": 1},
    "after_third_chunk": {"match": ".webm", "when": "after", "nth": 3},
    "before_manifest": {"match": "manifest.json", "when": "before"},
    "after_manifest_before_db": {"match": "manifest.json", "when": "after"},
    "during_db_write": {"match": "caption_frame_extents.db", "when": "during"},
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_crop_and_infer_killed_at_each_stage(point, before, tmp_path, zygote):
    storage = _fresh(before, tmp_path)
    keys = VideoKeys(TENANT, VIDEO)
    r = zygote.run(dict(job="crop", root=storage.root, video_key=keys.video, tenant=TENANT, video=VIDEO,
                        region=NEW.__dict__), KILL_POINTS[point])
    assert r["signal"] == signal.SIGKILL, r
    assert assert_consistent(storage, keys) == 1  # the previous complete run is still the live one
    # A rerun publishes a whole new version past whatever the killed run left.
    left = _versions(storage, keys)
    r = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, NEW, ctx=_ctx(storage))
    assert r.version == max(left) + 1
    assert assert_consistent(storage, keys) == r.version


def test_chunks_of_a_killed_run_are_deleted_once_its_claim_is_stale(before, tmp_path, zygote):
    storage = _fresh(before, tmp_path)
    keys = VideoKeys(TENANT, VIDEO)
    r = zygote.run(dict(job="crop", root=storage.root, video_key=keys.video, tenant=TENANT, video=VIDEO,
                        region=NEW.__dict__), KILL_POINTS["after_third_chunk"])
    assert r["signal"] == signal.SIGKILL, r
    orphan = keys.cropped_frames(2)
    assert sum(k.endswith(".webm") for k in storage.list(orphan)) >= 3
    # A fresh claim may be a run still going on another worker: a rerun leaves it alone.
    r = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, NEW, ctx=_ctx(storage))
    assert r.version == 3 and storage.list(orphan)
    # Seven hours later the claim is stale (past every job's time limit): the next run deletes it.
    claim = json.loads(storage.get_bytes(f"{orphan}/.claim"))
    storage.put_bytes(f"{orphan}/.claim", json.dumps({**claim, "claimed_at": time.time() - 7 * 3600}).encode())
    r = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, NEW, ctx=_ctx(storage))
    assert r.version == 4 and storage.list(orphan) == []
    assert _versions(storage, keys) == {1, 3, 4}  # complete versions are kept whatever their age
    assert assert_consistent(storage, keys) == 4


def test_claims_without_a_time_age_by_when_they_were_written(tmp_path):
    """Claims written before claims carried a time (a plain run id) still get cleaned: their
    age is the object's modification time."""
    from tasks.crop_infer import STALE_CLAIM_S, claim_version

    storage = LocalStorage(str(tmp_path))
    keys = VideoKeys(TENANT, VIDEO)
    for v, age in ((1, STALE_CLAIM_S + 600), (2, 600)):
        storage.put_bytes(f"{keys.cropped_frames(v)}/.claim", b"0b1c2d3e-run-id")  # the old format
        storage.put_bytes(f"{keys.cropped_frames(v)}/modulo_1/chunk_0000.webm", b"webm")
        then = time.time() - age
        os.utime(storage.path(f"{keys.cropped_frames(v)}/.claim"), (then, then))
    assert claim_version(storage, keys, "run-3") == 3
    assert storage.list(keys.cropped_frames(1)) == []  # killed long ago
    assert storage.list(keys.cropped_frames(2))  # maybe still running
    assert storage.modified_at(f"{keys.cropped_frames(3)}/.claim") == pytest.approx(time.time(), abs=60)
    with pytest.raises(MissingObject):
        storage.modified_at(f"{keys.cropped_frames(9)}/.claim")


def test_crop_and_infer_killed_from_outside_when_its_first_chunk_lands(before, tmp_path, zygote):
    """No hook in the child: the test watches the bucket and SIGKILLs the process."""
    storage = _fresh(before, tmp_path)
    keys = VideoKeys(TENANT, VIDEO)
    pid = zygote.start(dict(job="crop", root=storage.root, video_key=keys.video, tenant=TENANT, video=VIDEO,
                            region=NEW.__dict__))
    v2 = os.path.join(storage.root, *keys.cropped_frames(2).split("/"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.isdir(v2) and any(f.endswith(".webm") for _, _, fs in os.walk(v2) for f in fs):
            break
        time.sleep(0.002)
    try:
        os.kill(pid, signal.SIGKILL)  # the job process the zygote forked for us
    except ProcessLookupError:
        pass
    r = zygote.wait()
    if r["signal"] != signal.SIGKILL:
        pytest.skip("the job finished before the kill landed (machine too fast for the poll)")
    assert not storage.exists(keys.cropped_frames(2) + "/manifest.json")
    assert assert_consistent(storage, keys) == 1


def test_completed_run_in_a_subprocess_becomes_live(before, tmp_path, zygote):
    storage = _fresh(before, tmp_path)
    keys = VideoKeys(TENANT, VIDEO)
    r = zygote.run(dict(job="crop", root=storage.root, video_key=keys.video, tenant=TENANT, video=VIDEO,
                        region=NEW.__dict__), {"match": "caption_frame_extents.db", "when": "after"})
    assert r["signal"] == signal.SIGKILL
    assert assert_consistent(storage, keys) == 2


def test_running_crop_and_infer_twice_gives_the_same_outputs_under_a_new_version(before, tmp_path):
    storage = _fresh(before, tmp_path)
    keys = VideoKeys(TENANT, VIDEO)
    r = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, OLD, ctx=_ctx(storage))
    assert r.version == 2  # the seed: a new cropped-frames version per run
    m1, m2 = (load_manifest(storage, keys.cropped_frames(v)) for v in (1, 2))
    assert {k: v for k, v in m1.items() if k != "version"} == {k: v for k, v in m2.items() if k != "version"}
    with ChunkReader(storage, keys.cropped_frames(1)) as a, ChunkReader(storage, keys.cropped_frames(2)) as b:
        assert np.array_equal(a.frames(0, 130, 130)[1], b.frames(0, 130, 130)[1])


def test_running_extract_twice_gives_identical_outputs(tmp_path, ocr_engine):
    storage = LocalStorage(tmp_path / "bucket")
    keys = VideoKeys(TENANT, VIDEO)
    storage.put_file(keys.video, fm.h264(str(tmp_path / "c.mp4"), n=4, caption=fm.CAPTION))
    ctx = _ctx(storage)
    ctx._ocr = ocr_engine
    r1 = extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=ctx)
    snap1 = {k: storage.get_bytes(k) for k in storage.list(keys.full_frames) + storage.list(keys.thumbnails)}
    with open_db(storage, keys.raw_ocr_db) as conn:
        ocr1 = conn.execute("SELECT * FROM full_frame_ocr ORDER BY frame_index, box_index").fetchall()
    with open_db(storage, keys.layout_db) as conn:
        lay1 = conn.execute("SELECT * FROM layout_config").fetchall()
    r2 = extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=ctx)
    assert r1 == r2
    assert {k: storage.get_bytes(k) for k in storage.list(keys.full_frames) + storage.list(keys.thumbnails)} == snap1
    with open_db(storage, keys.raw_ocr_db) as conn:
        assert conn.execute("SELECT * FROM full_frame_ocr ORDER BY frame_index, box_index").fetchall() == ocr1
    with open_db(storage, keys.layout_db) as conn:
        assert conn.execute("SELECT * FROM layout_config").fetchall() == lay1
    assert any("HELLO" in row[3].upper() for row in ocr1)


@pytest.mark.parametrize("kill", [{"match": "full_frames/", "when": "after", "nth": 3},
                                  {"match": "raw-ocr.db.gz", "when": "after"},
                                  {"match": "layout.db.gz", "when": "during"}])
def test_extract_killed_then_rerun_is_whole(kill, tmp_path, clip, zygote):
    storage = LocalStorage(tmp_path / "bucket")
    keys = VideoKeys(TENANT, VIDEO)
    storage.put_file(keys.video, clip)
    r = zygote.run(dict(job="extract", root=storage.root, video_key=keys.video, tenant=TENANT, video=VIDEO), kill)
    assert r["signal"] == signal.SIGKILL
    assert not storage.exists(keys.layout_db)  # the last write, so the run never looks complete
    r = extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=_ctx(storage))
    assert len(storage.list(keys.full_frames)) == len(storage.list(keys.thumbnails)) == r.frame_count
    with open_db(storage, keys.raw_ocr_db) as conn:
        assert conn.execute("SELECT count(*) FROM frames").fetchone()[0] == r.frame_count
    assert not any("/.partial-" in k for k in storage.list(TENANT))


@pytest.mark.xfail(strict=True, reason="known gap: captions.srt, captions.vtt and captions.db.gz are three "
                   "fixed keys and S3 has no multi-object commit, so a kill between the writes leaves a new "
                   "SRT beside the old VTT/DB; captions.db (written last) records the SRT/VTT SHA-256 so a "
                   "reader can detect the torn set. A real fix needs run-scoped keys with a pointer.")
def test_captions_killed_between_srt_and_database_never_mix(tmp_path, zygote):
    storage = LocalStorage(tmp_path / "bucket")
    keys = VideoKeys(TENANT, VIDEO)
    base = dict(job="captions", root=storage.root, tenant=TENANT, video=VIDEO)
    assert zygote.run(dict(base, captions=[[0, 10, "OLD CAPTION"]])) == {"pid": ANY, "signal": 0, "code": 0}
    r = zygote.run(dict(base, captions=[[0, 10, "NEW CAPTION"]]), {"match": "captions.srt", "when": "after"})
    assert r["signal"] == signal.SIGKILL
    srt = storage.get_bytes(keys.captions_srt).decode()
    vtt = storage.get_bytes(keys.captions_vtt).decode()
    with open_db(storage, keys.captions_db) as conn:
        db_text = conn.execute("SELECT text FROM captions").fetchone()[0]
    assert ("NEW" in srt) == ("NEW" in vtt) == ("NEW" in db_text)


class _RacingStorage(LocalStorage):
    """Lets two jobs list the bucket at the same moment — what two workers on one video do."""

    barrier = threading.Barrier(2, timeout=20)

    def list(self, prefix):
        out = super().list(prefix)
        if prefix.endswith(VIDEO) and "/client/" in prefix:
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                pass
        return out


def test_concurrent_runs_on_one_video_get_distinct_whole_versions(tmp_path, clip):
    storage = _RacingStorage(tmp_path / "bucket")
    keys = VideoKeys(TENANT, VIDEO)
    storage.put_file(keys.video, clip)
    results, errors = {}, []

    def run(name, region):
        try:
            results[name] = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, region, ctx=_ctx(storage))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=run, args=(n, r)) for n, r in (("old", OLD), ("new", NEW))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors
    assert results["old"].version != results["new"].version
    for r in results.values():
        m = load_manifest(storage, r.cropped_frames_prefix)
        with ChunkReader(storage, r.cropped_frames_prefix) as reader:
            _, frames = reader.frames(0, reader.frame_count, want=reader.frame_count)
        assert frames.shape[1] == m["crop_box"][3] - m["crop_box"][1]
