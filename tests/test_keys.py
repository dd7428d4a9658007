import pytest

from tasks.errors import InvalidId
from tasks.keys import VideoKeys, chunk_key, manifest_key, parse_chunks_prefix, validate_id
from tasks.storage import check_key

from .conftest import TENANT, VIDEO


def test_key_layout_matches_design():
    k = VideoKeys(TENANT, VIDEO)
    c, s = f"{TENANT}/client/videos/{VIDEO}", f"{TENANT}/server/videos/{VIDEO}"
    assert k.video == f"{c}/video.mp4"
    assert k.full_frame(100) == f"{c}/full_frames/frame_000100.jpg"
    assert k.thumbnail(0) == f"{c}/full_frames_thumbnails/frame_000000.jpg"
    assert k.raw_ocr_db == f"{s}/raw-ocr.db.gz"
    assert k.layout_db == f"{c}/layout.db.gz"
    assert chunk_key(k.cropped_frames(3), 16, 2) == f"{c}/cropped_frames_v3/modulo_16/chunk_0002.webm"
    assert manifest_key(k.cropped_frames(1)) == f"{c}/cropped_frames_v1/manifest.json"
    assert k.caption_frame_extents_db == f"{s}/caption_frame_extents.db"
    assert k.captions_db == f"{c}/captions.db.gz"


@pytest.mark.parametrize("bad", ["", "tenant", "../" + TENANT[3:], TENANT.upper(), TENANT + "x",
                                 TENANT.replace("-", ""), "00000000-0000-0000-0000-00000000000g", None, 42])
def test_bad_ids_are_refused(bad):
    with pytest.raises(InvalidId):
        VideoKeys(bad, VIDEO)
    with pytest.raises(InvalidId):
        validate_id(bad)


def test_chunks_prefix_accepts_only_one_version_folder():
    keys, version = parse_chunks_prefix(f"{TENANT}/client/videos/{VIDEO}/cropped_frames_v2/")
    assert (keys.tenant_id, keys.video_id, version) == (TENANT, VIDEO, 2)
    base = f"{TENANT}/client/videos/{VIDEO}"
    for bad in [f"{base}/cropped_frames_v0/", f"{base}/../x/cropped_frames_v1/", f"/{base}/cropped_frames_v1/",
                f"{base}//cropped_frames_v1/", f"s3://bucket/{base}/cropped_frames_v1/",
                f"{TENANT}/server/videos/{VIDEO}/cropped_frames_v1/", f"{base}/cropped_frames_v1/modulo_1",
                f"{base}/cropped_frames_v1/%2e%2e/", "", None]:
        with pytest.raises(InvalidId):
            parse_chunks_prefix(bad)


@pytest.mark.parametrize("bad", ["/abs/key", "a/../b", "a//b", "./a", "a\\b", "http://x/y", "a/\x00"])
def test_storage_refuses_unsafe_keys(bad):
    with pytest.raises(InvalidId):
        check_key(bad)
