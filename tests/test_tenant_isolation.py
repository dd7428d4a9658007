"""Tenant isolation: ids are canonical UUIDs, every key comes from tasks/keys.py, and a caller's
key or chunks prefix that points anywhere but its own tree is refused before storage is touched
— on the jobs, on LocalStorage and on a real S3 server."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.caption_ocr import generate_caption_ocr
from tasks.crop_infer import crop_and_infer_caption_frame_extents
from tasks.errors import InvalidId
from tasks.extract import extract_frames_and_ocr
from tasks.inputs import video_keys
from tasks.keys import VideoKeys, parse_chunks_prefix, validate_id
from tasks.storage import LocalStorage
from tests.services.seaweed import s3_storage, seaweed_s3  # noqa: F401 - fixtures

from .conftest import TENANT, VIDEO

OTHER = "11111111-2222-4333-8444-555555555555"
BASE = f"{TENANT}/client/videos/{VIDEO}"
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

LOOKALIKE_IDS = [
    TENANT.upper(), " " + TENANT, TENANT + " ", TENANT + "\n", "{" + TENANT + "}", "urn:uuid:" + TENANT,
    TENANT.replace("-", ""), TENANT.replace("a", "\u0430"),  # Cyrillic а
    TENANT.replace("5", "\uff15"),  # fullwidth ５: int(..., 16) accepts it
    TENANT.replace("1", "\u0661"),  # Arabic-Indic one
    TENANT.replace("-", "\u2010"),  # hyphen lookalike
    TENANT[:-1] + "\x00", "../" + TENANT[3:], TENANT + "/..", "", None, 42, b"x" * 36,
]


@pytest.mark.parametrize("bad", LOOKALIKE_IDS, ids=lambda v: ascii(v)[:40])
def test_ids_must_be_canonical_uuids(bad):
    with pytest.raises(InvalidId):
        validate_id(bad)
    with pytest.raises(InvalidId):
        VideoKeys(bad, VIDEO)
    with pytest.raises(InvalidId):
        VideoKeys(TENANT, bad)


# Keys a hostile or buggy caller could hand a job as video_key.
BAD_VIDEO_KEYS = [
    f"{OTHER}/client/videos/{VIDEO}/video.mp4",  # another tenant
    f"{TENANT}x/client/videos/{VIDEO}/video.mp4",
    f"{TENANT}/../{OTHER}/client/videos/{VIDEO}/video.mp4",
    f"{BASE}/../../../../{OTHER}/client/videos/{VIDEO}/video.mp4",
    f"{BASE}/./video.mp4", f"{BASE}//video.mp4", f"/{BASE}/video.mp4", f"{BASE}/video.mp4/",
    f"{BASE}/%2e%2e/%2e%2e/%2e%2e/{OTHER}/video.mp4", f"{BASE}/..%2f..%2f{OTHER}/video.mp4",
    f"{BASE}/%2Fetc%2Fpasswd", f"{BASE}/\uff0e\uff0e/video.mp4",  # fullwidth dots
    f"{BASE}/\u2215..\u2215video.mp4", f"{BASE}\uff0fvideo.mp4",  # division slash, fullwidth solidus
    f"{BASE}/video.mp4\x00.jpg", f"{BASE}\\..\\..\\{OTHER}\\video.mp4", f"{BASE}/video.mp4\n",
    f"{BASE}/video.mp4?versionId=1", f"{BASE}/video.mp4#x", f"s3://bucket/{BASE}/video.mp4",
    f"http://169.254.169.254/{BASE}/video.mp4", f"file:///{BASE}/video.mp4", f"{TENANT}:/{BASE}/video.mp4",
    f"{TENANT}/server/videos/{VIDEO}/raw-ocr.db.gz",  # the server tree is ours, not the caller's
    f"{TENANT}/client/videos/not-a-uuid/video.mp4", f"{TENANT.upper()}/client/videos/{VIDEO}/video.mp4",
    f"{BASE}/video\u202egpj.mp4",  # right-to-left override
    f"{BASE}/ video.mp4", f"{BASE}/.hidden", f"{BASE}/..", f"{BASE}", "", None, 7,
]


class SpyStorage(LocalStorage):
    """Records every storage call: a refused input must cause none."""

    def __init__(self, root):
        super().__init__(root)
        self.calls: list[tuple] = []

    def __getattribute__(self, name):
        attr = super().__getattribute__(name)
        if name in ("put_file", "put_bytes", "get_file", "get_bytes", "exists", "list", "delete",
                    "open_local", "delete_prefix"):
            calls = super().__getattribute__("calls")

            def spy(*a, **kw):
                calls.append((name, a))
                return attr(*a, **kw)

            return spy
        return attr


@pytest.fixture
def spy_ctx(tmp_path):
    from tasks.context import JobContext

    st_ = SpyStorage(tmp_path / "bucket")
    return JobContext(storage=st_, device_name="cpu")


@pytest.mark.parametrize("bad", BAD_VIDEO_KEYS, ids=lambda v: ascii(v)[-48:])
def test_jobs_refuse_video_keys_outside_the_tenants_tree(bad, spy_ctx):
    with pytest.raises(InvalidId):
        video_keys(TENANT, VIDEO, bad)
    with pytest.raises(InvalidId):
        extract_frames_and_ocr(bad, TENANT, VIDEO, ctx=spy_ctx)
    with pytest.raises(InvalidId):
        crop_and_infer_caption_frame_extents(bad, TENANT, VIDEO, (0, 0.5, 1, 1), ctx=spy_ctx)
    assert spy_ctx.storage.calls == []


def test_jobs_accept_keys_in_the_tenants_own_video_folders():
    for ok in [f"{BASE}/video.mp4", f"{BASE}/upload_2.MOV", f"{TENANT}/client/videos/{OTHER}/video.mp4",
               f"{BASE}/originals/v-1.mkv"]:
        assert video_keys(TENANT, VIDEO, ok).tenant_id == TENANT


BAD_PREFIXES = [
    f"{OTHER}/client/videos/{VIDEO}/../../../{TENANT}/client/videos/{VIDEO}/cropped_frames_v1/",
    f"{BASE}/cropped_frames_v1/\n", f"{BASE}/cropped_frames_v1\n", f"{BASE}/cropped_frames_v1//",
    f"{BASE}/cropped_frames_v01/", f"{BASE}/cropped_frames_v\uff11/", f"{BASE}/cropped_frames_v\u0661/",
    f"{BASE}/cropped_frames_v1/%2e%2e/", f"{BASE}/cropped_frames_v1/../../{VIDEO}/cropped_frames_v1/",
    f"{BASE}\\cropped_frames_v1\\", f"{BASE}/cropped_frames_v1\x00/", f" {BASE}/cropped_frames_v1/",
    f"{TENANT}/server/videos/{VIDEO}/cropped_frames_v1/", f"{BASE}/cropped_frames_v1/modulo_1/",
    f"{BASE}/cropped_frames_v9999999/", f"{BASE}/cropped_frames_v-1/", f"{BASE}/cropped_frames_v1.0/",
    f"https://{BASE}/cropped_frames_v1/", f"/{BASE}/cropped_frames_v1/", "./" + BASE + "/cropped_frames_v1/",
    BASE.upper() + "/cropped_frames_v1/", b"x", ["x"],
]


@pytest.mark.parametrize("bad", BAD_PREFIXES, ids=lambda v: ascii(v)[-40:])
def test_caption_ocr_refuses_foreign_or_tricky_chunks_prefixes(bad, spy_ctx):
    with pytest.raises(InvalidId):
        parse_chunks_prefix(bad)
    with pytest.raises(InvalidId):
        generate_caption_ocr(bad, 0, 5, ctx=spy_ctx)
    assert spy_ctx.storage.calls == []


# --- fuzz: whatever is accepted is canonical and inside the tenant's tree -----------------------

uuid_like = st.one_of(st.uuids().map(str), st.text(alphabet="0123456789abcdefABCDEF-{}\uff15\u0430 ", max_size=40))


@FUZZ
@given(value=st.one_of(uuid_like, st.text(max_size=40)))
def test_fuzz_validate_id(value):
    try:
        out = validate_id(value)
    except InvalidId:
        return
    assert out == value and len(value) == 36 and value == value.lower() and value.isascii()


def _mutations(base: str):
    pieces = st.sampled_from(["..", "/", "//", "%2e", "%2f", "\\", "\x00", "\n", "\uff0e", "\u2215", ".", " ",
                              "?", "#", ":", OTHER, "v2", "A"])
    return st.tuples(st.integers(0, len(base)), pieces).map(lambda t: base[: t[0]] + t[1] + base[t[0]:])


@FUZZ
@given(prefix=st.one_of(_mutations(f"{BASE}/cropped_frames_v3/"), st.text(max_size=120)))
def test_fuzz_chunks_prefix(prefix):
    try:
        keys, version = parse_chunks_prefix(prefix)
    except InvalidId:
        return
    assert prefix.rstrip("/") == keys.cropped_frames(version)  # accepted only when canonical


@FUZZ
@given(key=st.one_of(_mutations(f"{BASE}/video.mp4"), st.text(max_size=120)))
def test_fuzz_video_key(key):
    try:
        video_keys(TENANT, VIDEO, key)
    except InvalidId:
        return
    assert key.startswith(f"{TENANT}/client/videos/") and key.isascii()
    assert ".." not in key.split("/") and "//" not in key and "%" not in key and "\\" not in key


@FUZZ
@given(key=st.text(max_size=80))
def test_fuzz_local_storage_paths_stay_under_the_root(key, tmp_path):
    st_ = LocalStorage(tmp_path / "root")
    try:
        p = st_.path(key)
    except InvalidId:
        return
    real_root = os.path.realpath(st_.root)
    assert os.path.realpath(p).startswith(real_root + os.sep)


# --- storage backends ----------------------------------------------------------------------

UNSAFE_KEYS = ["/abs/key", "a/../b", "..", "a//b", "./a", "a/.", "a\\b", "a/\x00b", "http://x/y", "s3:/x", "",
               "../" + BASE]


@pytest.mark.parametrize("bad", UNSAFE_KEYS, ids=ascii)
def test_local_storage_refuses_unsafe_keys_everywhere(bad, tmp_path):
    st_ = LocalStorage(tmp_path / "root")
    src = tmp_path / "src"
    src.write_bytes(b"x")
    for call in (lambda: st_.put_bytes(bad, b"x"), lambda: st_.put_file(bad, src), lambda: st_.get_bytes(bad),
                 lambda: st_.get_file(bad, tmp_path / "o"), lambda: st_.exists(bad), lambda: st_.list(bad),
                 lambda: st_.delete(bad), lambda: st_.open_local(bad).__enter__()):
        with pytest.raises(InvalidId):
            call()
    assert not os.listdir(st_.root)
    assert sorted(os.listdir(tmp_path)) == ["root", "src"]


def test_local_storage_refuses_a_symlink_out_of_its_root(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    st_ = LocalStorage(tmp_path / "root")
    os.makedirs(os.path.join(st_.root, TENANT, "client", "videos"))
    os.symlink(outside, os.path.join(st_.root, TENANT, "client", "videos", VIDEO))
    with pytest.raises(InvalidId, match="outside the storage root"):
        st_.put_bytes(f"{BASE}/captions.srt", b"x")
    with pytest.raises(InvalidId):
        st_.get_bytes(f"{BASE}/video.mp4")
    assert list(outside.iterdir()) == []


def test_local_storage_lists_only_the_prefix_asked(tmp_path):
    st_ = LocalStorage(tmp_path / "root")
    a, b = VideoKeys(TENANT, VIDEO), VideoKeys(OTHER, VIDEO)
    st_.put_bytes(a.captions_srt, b"a")
    st_.put_bytes(b.captions_srt, b"b")
    st_.put_bytes(a.thumbnail(0), b"t")
    assert st_.list(TENANT) == sorted([a.captions_srt, a.thumbnail(0)])
    assert st_.list(a.full_frames) == []  # 'full_frames' is not a prefix of 'full_frames_thumbnails'


def _count_requests(storage):
    n = [0]

    def hook(**_):
        n[0] += 1

    storage._client.meta.events.register("before-send.s3", hook)
    return n


@pytest.mark.parametrize("bad", UNSAFE_KEYS, ids=ascii)
def test_s3_storage_refuses_unsafe_keys_without_a_request(bad, s3_storage, tmp_path):
    sent = _count_requests(s3_storage)
    src = tmp_path / "src"
    src.write_bytes(b"x")
    for call in (lambda: s3_storage.put_bytes(bad, b"x"), lambda: s3_storage.put_file(bad, src),
                 lambda: s3_storage.get_bytes(bad), lambda: s3_storage.get_file(bad, tmp_path / "o"),
                 lambda: s3_storage.head(bad), lambda: s3_storage.list(bad), lambda: s3_storage.delete(bad)):
        with pytest.raises(InvalidId):
            call()
    assert sent[0] == 0


def test_s3_url_tricks_in_allowed_keys_are_stored_literally(s3_storage):
    """Characters check_key lets through ('%', '?', '#', unicode) must not be decoded or
    normalised by the client or the server into another tenant's key."""
    victim = VideoKeys(OTHER, VIDEO)
    s3_storage.put_bytes(victim.captions_srt, b"victim")
    tricks = [f"{BASE}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/{OTHER}/client/videos/{VIDEO}/captions.srt",
              f"{BASE}/x?prefix={OTHER}", f"{BASE}/x#/%2E%2E/{OTHER}", f"{BASE}/\uff0e\uff0e/captions.srt",
              f"{BASE}/%00", f"{BASE}/a%2fb"]
    for k in tricks:
        s3_storage.put_bytes(k, b"attacker")
        assert s3_storage.get_bytes(k) == b"attacker"
    assert s3_storage.get_bytes(victim.captions_srt) == b"victim"
    assert s3_storage.list(OTHER) == [victim.captions_srt]
    assert sorted(s3_storage.list(TENANT)) == sorted(tricks)


def test_s3_list_never_crosses_into_a_sibling_prefix(s3_storage):
    a = VideoKeys(TENANT, VIDEO)
    s3_storage.put_bytes(a.thumbnail(0), b"t")
    s3_storage.put_bytes(a.full_frame(0), b"f")
    assert s3_storage.list(a.full_frames) == [a.full_frame(0)]
    assert s3_storage.list(TENANT[:-1]) == []  # a partial id is not a folder
