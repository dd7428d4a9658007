"""S3Storage against a real S3 server (SeaweedFS started by the fixture, SigV4 auth enforced).

Not exercised here: Wasabi itself (its endpoint, its throttling, its 90-day minimum storage).
"""

from __future__ import annotations

import gzip
import io
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from tasks.errors import BadInput, CorruptData, Fatal, MissingObject, Transient
from tasks.settings import Settings
from tasks.storage.s3 import S3Storage
from tests.services.seaweed import s3_storage, seaweed_s3  # noqa: F401 - fixtures

MB = 1024 * 1024
T = "5f0c6a4e-1b2c-4d3e-8f90-a1b2c3d4e5f6/client/videos/0d9b2f4c-7e6a-4b1d-9c8e-f0e1d2c3b4a5"


def test_put_get_list_delete_and_content_types(s3_storage):
    st = s3_storage
    st.put_bytes(f"{T}/full_frames/frame_000000.jpg", b"\xff\xd8jpeg")
    st.put_bytes(f"{T}/full_frames/frame_000100.jpg", b"\xff\xd8jpeg2")
    st.put_bytes(f"{T}/captions.srt", "1\n00:00:00,000 --> 00:00:01,000\n你好\n".encode())
    st.put_bytes(f"{T}/cropped_frames_v1/manifest.json", b"{}")
    st.put_bytes(f"{T}/full_frames_thumbnails/frame_000000.jpg", b"\xff\xd8t")  # shares a name prefix
    assert st.get_bytes(f"{T}/full_frames/frame_000100.jpg") == b"\xff\xd8jpeg2"
    assert st.list(f"{T}/full_frames") == [f"{T}/full_frames/frame_000000.jpg", f"{T}/full_frames/frame_000100.jpg"]
    assert st.list(f"{T}/full_frames/") == st.list(f"{T}/full_frames")
    assert len(st.list(T)) == 5
    types = {k.rsplit(".", 1)[1]: st.head(k)["content_type"] for k in st.list(T)}
    assert types == {"jpg": "image/jpeg", "srt": "application/x-subrip", "json": "application/json"}
    assert st.exists(f"{T}/captions.srt") and not st.exists(f"{T}/nope.srt")
    st.put_bytes(f"{T}/captions.srt", b"replaced", "text/plain")
    assert st.get_bytes(f"{T}/captions.srt") == b"replaced" and st.head(f"{T}/captions.srt")["content_type"] == "text/plain"
    st.delete(f"{T}/captions.srt")
    st.delete(f"{T}/captions.srt")  # deleting a missing key is fine
    assert st.delete_prefix(f"{T}/full_frames") == 2
    assert st.list(T) == [f"{T}/cropped_frames_v1/manifest.json", f"{T}/full_frames_thumbnails/frame_000000.jpg"]


def test_list_paginates_past_1000_keys(s3_storage):
    keys = [f"{T}/many/k{i:05d}.json" for i in range(1005)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3_storage.put_bytes(k, b"{}"), keys))
    assert s3_storage.list(f"{T}/many") == keys
    assert s3_storage.delete_prefix(f"{T}/many") == 1005  # two DeleteObjects batches
    assert s3_storage.list(f"{T}/many") == []


def test_multipart_upload_and_streamed_download(seaweed_s3, tmp_path):
    st = seaweed_s3.storage(seaweed_s3.new_bucket(), multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    src = tmp_path / "video.mp4"
    data = os.urandom(12 * MB + 123)
    src.write_bytes(data)
    st.put_file(f"{T}/video.mp4", src)
    head = st.head(f"{T}/video.mp4")
    assert head["size"] == len(data) and head["content_type"] == "video/mp4"
    assert head["etag"].strip('"').endswith("-3")  # really three parts
    out = tmp_path / "down" / "v.mp4"
    out.parent.mkdir()
    st.get_file(f"{T}/video.mp4", out)
    assert out.read_bytes() == data
    assert [p.name for p in out.parent.iterdir()] == ["v.mp4"]  # no partial files left behind
    with st.open_local(f"{T}/video.mp4", ".mp4") as p:
        assert os.path.getsize(p) == len(data)
    st.put_bytes(f"{T}/big.webm", data[: 6 * MB])  # big bytes go multipart too
    assert st.head(f"{T}/big.webm")["etag"].strip('"').endswith("-2")
    st.close()


def test_gzip_round_trip_of_a_sqlite_database(s3_storage, tmp_path):
    db = tmp_path / "raw-ocr.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE full_frame_ocr(frame_index, box_index, text)")
    conn.executemany("INSERT INTO full_frame_ocr VALUES (?, ?, ?)", [(i, 0, f"字幕{i}") for i in range(500)])
    conn.commit()
    conn.close()
    key = "5f0c6a4e-1b2c-4d3e-8f90-a1b2c3d4e5f6/server/videos/0d9b2f4c-7e6a-4b1d-9c8e-f0e1d2c3b4a5/raw-ocr.db.gz"
    s3_storage.put_gzipped(key, db)
    raw = s3_storage.get_bytes(key)
    assert raw[:2] == b"\x1f\x8b" and gzip.decompress(raw) == db.read_bytes()  # really gzipped
    head = s3_storage.head(key)
    assert head["content_type"] == "application/gzip" and head["content_encoding"] is None
    out = tmp_path / "back.db"
    s3_storage.get_gunzipped(key, out)
    rows = sqlite3.connect(out).execute("SELECT count(*), max(text) FROM full_frame_ocr").fetchone()
    assert rows == (500, "字幕99")


def test_gzip_keys_refuse_plain_data_and_corrupt_objects_are_reported(s3_storage, seaweed_s3, tmp_path):
    key = f"{T}/layout.db.gz"
    with pytest.raises(BadInput, match="non-gzip"):
        s3_storage.put_bytes(key, b"SQLite format 3\x00")
    plain = tmp_path / "x.db"
    plain.write_bytes(b"SQLite format 3\x00")
    with pytest.raises(BadInput):
        s3_storage.put_file(key, plain)
    assert not s3_storage.exists(key)
    # A truncated gzip (written behind our back) is CorruptData, and leaves no output file.
    c = seaweed_s3.client()
    c.put_object(Bucket=s3_storage.bucket, Key=key, Body=gzip.compress(b"x" * 10000)[:30])
    c.close()
    with pytest.raises(CorruptData):
        s3_storage.get_gunzipped(key, tmp_path / "out.db")
    assert not (tmp_path / "out.db").exists()


def test_databases_module_publishes_and_opens_on_s3(s3_storage):
    from tasks.databases import new_db, open_db, publish_db

    key = f"{T}/captions.db.gz"
    with new_db("CREATE TABLE t(x TEXT);") as (conn, path):
        conn.execute("INSERT INTO t VALUES ('你好')")
        publish_db(conn, path, s3_storage, key)
    assert s3_storage.get_bytes(key)[:2] == b"\x1f\x8b"
    with open_db(s3_storage, key) as conn:
        assert conn.execute("SELECT x FROM t").fetchone() == ("你好",)


def test_missing_keys_raise_missing_object(s3_storage, tmp_path):
    k = f"{T}/video.mp4"
    with pytest.raises(MissingObject):
        s3_storage.get_bytes(k)
    with pytest.raises(MissingObject):
        s3_storage.get_file(k, tmp_path / "v.mp4")
    with pytest.raises(MissingObject):
        s3_storage.head(k)
    assert not s3_storage.exists(k)
    assert list(tmp_path.iterdir()) == []  # the failed download left nothing


class _FailingReader(io.RawIOBase):
    """Yields ``ok`` random bytes, then fails like a dying disk or a killed producer."""

    def __init__(self, ok: int) -> None:
        self.left = ok

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.left <= 0:
            raise OSError("simulated read failure")
        n = min(len(b), self.left)
        b[:n] = os.urandom(n)
        self.left -= n
        return n


@pytest.mark.parametrize("ok_bytes", [12 * MB, 1 * MB])  # dies during part 3 / during a single PUT
def test_failed_upload_leaves_no_object_and_no_parts(seaweed_s3, ok_bytes):
    st = seaweed_s3.storage(seaweed_s3.new_bucket(), multipart_threshold=5 * MB, multipart_chunksize=5 * MB)
    key = f"{T}/video.mp4"
    with pytest.raises(Transient):
        st.put_fileobj(key, io.BufferedReader(_FailingReader(ok_bytes)))
    assert not st.exists(key)
    assert st.list(T) == []
    c = seaweed_s3.client()
    assert c.list_multipart_uploads(Bucket=st.bucket).get("Uploads", []) == []  # aborted, not dangling
    c.close()
    st.close()


def test_wrong_credentials_are_fatal_and_signatures_are_checked(seaweed_s3):
    st = seaweed_s3.storage(secret_key="not-the-secret", max_attempts=2)
    with pytest.raises(Fatal, match="SignatureDoesNotMatch|AccessDenied"):
        st.put_bytes(f"{T}/x.json", b"{}")
    with pytest.raises(Fatal):
        seaweed_s3.storage(access_key="nobody", max_attempts=2).get_bytes(f"{T}/x.json")
    assert "not-the-secret" not in repr(st)
    st.close()


def test_from_settings_reads_the_wasabi_secret_names(seaweed_s3, monkeypatch):
    bucket = seaweed_s3.new_bucket()
    for k, v in seaweed_s3.env(bucket).items():
        monkeypatch.setenv(k, v)
    s = Settings(_env_file=None)
    assert s.storage == "s3" and s.wasabi_bucket == bucket
    with S3Storage.from_settings(s) as st:
        st.put_bytes(f"{T}/a.json", b"1")
        assert st.get_bytes(f"{T}/a.json") == b"1"
    assert seaweed_s3.secret_key not in repr(s)


def test_wasabi_endpoint_is_the_default():
    s = Settings(_env_file=None, wasabi_bucket="b", wasabi_region="eu-central-2")
    assert s.s3_kwargs()["endpoint_url"] == "https://s3.eu-central-2.wasabisys.com"


@pytest.mark.slow
def test_full_pipeline_on_s3_storage(seaweed_s3, mixed_clip, ocr_engine):
    """The three jobs + caption decoding, every artefact read and written through S3."""
    from tasks.context import JobContext
    from tasks.keys import VideoKeys
    from tasks.pipeline import run_video
    from tests.conftest import TENANT, VIDEO

    st = seaweed_s3.storage(seaweed_s3.new_bucket())
    keys = VideoKeys(TENANT, VIDEO)
    st.put_file(keys.video, mixed_clip[0])
    ctx = JobContext(storage=st, device_name="cpu")
    ctx._ocr = ocr_engine
    result = run_video(keys.video, TENANT, VIDEO, ctx=ctx)
    assert result.captions
    assert st.get_bytes(keys.raw_ocr_db)[:2] == b"\x1f\x8b"
    assert st.get_bytes(keys.captions_db)[:2] == b"\x1f\x8b"
    assert st.exists(keys.captions_srt) and st.exists(keys.captions_vtt)
    assert st.list(f"{keys.client}/full_frames")
    st.close()


def test_create_exclusive_claims_a_key_once(s3_storage):
    """Version claims rest on this: the second create of a key must lose."""
    assert s3_storage.create_exclusive("t/claims/v1/.claim", b"run-a") is True
    assert s3_storage.create_exclusive("t/claims/v1/.claim", b"run-b") is False
    assert s3_storage.get_bytes("t/claims/v1/.claim") == b"run-a"


def test_claims_of_killed_runs_are_cleaned_on_s3(s3_storage):
    """What a SIGKILLed crop-and-infer leaves (a claim and chunks, no manifest) is deleted by a
    later claim once stale; a fresh one and a complete version stay."""
    import json
    import time

    from tasks.crop_infer import STALE_CLAIM_S, claim_version
    from tasks.keys import VideoKeys

    keys = VideoKeys("0b7f3c1e-2d4a-4c6b-8e9f-0a1b2c3d4e5f", "1c8e4d2f-3e5b-4d7c-9f0a-1b2c3d4e5f60")
    now = time.time()
    s3_storage.put_bytes(keys.cropped_frames(1) + "/manifest.json", b"{}")  # complete, old
    for v, age in ((2, STALE_CLAIM_S + 60), (3, 60)):  # killed long ago; maybe still running
        s3_storage.put_bytes(keys.cropped_frames(v) + "/.claim", json.dumps({"run_id": "x", "claimed_at": now - age}).encode())
        s3_storage.put_bytes(keys.cropped_frames(v) + "/modulo_1/chunk_0000.webm", b"webm")
    assert claim_version(s3_storage, keys, "run-4", now=now) == 4
    left = s3_storage.list(keys.client)
    assert not any("/cropped_frames_v2/" in k for k in left)
    assert keys.cropped_frames(3) + "/modulo_1/chunk_0000.webm" in left
    assert keys.cropped_frames(1) + "/manifest.json" in left
    assert json.loads(s3_storage.get_bytes(keys.cropped_frames(4) + "/.claim"))["run_id"] == "run-4"
    # A claim in the old format (a plain run id, no time) ages by the object's LastModified.
    s3_storage.put_bytes(keys.cropped_frames(5) + "/.claim", b"old-run")
    s3_storage.put_bytes(keys.cropped_frames(5) + "/modulo_1/chunk_0000.webm", b"webm")
    assert s3_storage.modified_at(keys.cropped_frames(5) + "/.claim") == pytest.approx(time.time(), abs=60)
    assert claim_version(s3_storage, keys, "run-6", now=time.time() + 60) == 6
    assert s3_storage.list(keys.cropped_frames(5))  # written a minute ago: left alone
    assert claim_version(s3_storage, keys, "run-7", now=time.time() + STALE_CLAIM_S + 60) == 7
    assert s3_storage.list(keys.cropped_frames(5)) == []
