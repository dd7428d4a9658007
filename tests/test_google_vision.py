"""GoogleVisionEngine against a local server speaking Vision's REST protocol.

The real google-cloud-vision client (REST transport) talks to ``tests/services/vision_stub.py``;
what is not exercised here: real OCR quality, real auth token exchange, real quotas.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from tasks.errors import BadInput, Fatal, Transient
from tasks.ocr.google_vision import (
    GoogleVisionEngine,
    VisionBatchError,
    VisionRequestRejected,
    language_hints,
    load_credentials,
)
from tasks.ocr.montage import VisionLimits
from tasks.settings import Settings
from tests.services.vision_stub import vision_stub  # noqa: F401 - fixture

H, W = 180, 320


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    # Dark, noisy backgrounds so JPEG has something to chew on; text rectangles are white.
    return [rng.integers(0, 70, (H, W, 3), dtype=np.uint8) for _ in range(n)]


def _engine(stub, **kw):
    delays = []
    kw.setdefault("settings", Settings(_env_file=None))
    eng = GoogleVisionEngine(api_endpoint=stub.endpoint, sleep=delays.append, backoff_base=0.01, **kw)
    eng.delays = delays
    return eng


def _near(box, x, y, w, h, tol=2.0):
    return all(abs(a - b) <= tol for a, b in zip((box.x, box.y, box.width, box.height), (x, y, w, h)))


def test_montage_round_trip_lands_text_on_the_right_frames(vision_stub):
    imgs = _frames(30)
    expected = {}
    rng = np.random.default_rng(1)
    texts = ["你好世界", "字幕测试", "hello world", "第二行字幕", "ok", "最后一句"]
    for i in range(0, 30, 2):
        text = texts[i % len(texts)]
        # Alternate near the top and the bottom edge: text right beside a seam.
        y = 0 if i % 4 == 0 else H - 20
        x = int(rng.integers(0, W - 70))
        expected[i] = (text, vision_stub.paint(imgs[i], text, x, y))
    with _engine(vision_stub) as eng:
        result = eng.annotate_batch(imgs)
        boxes = eng.recognize_batch(imgs)
    assert result.ok and result.montages == 1 and result.requests == 1
    assert len(vision_stub.requests) == 2  # one per call above; 30 frames in one image
    for i, frame in enumerate(result.frames):
        if i not in expected:
            assert frame.lines == [] and boxes[i] == []
            continue
        text, (x, y, w, h) = expected[i]
        (line,) = frame.lines
        assert line.text == text and boxes[i][0].text == text
        assert line.confidence == pytest.approx(0.97, abs=1e-3)
        assert _near(line, x, y, w, h), (line, (x, y, w, h))
        # Per-word and per-character boxes, in the frame's own pixels.
        assert "".join(s.text for s in frame.symbols) == text.replace(" ", "")
        for s in frame.symbols:
            assert x - 2 <= s.x and s.x + s.width <= x + w + 2 and y - 2 <= s.y and s.y + s.height <= y + h + 2
            assert 0.9 <= s.confidence <= 1.0


def test_detection_straddling_a_seam_goes_to_the_frame_with_most_of_it(vision_stub):
    imgs = _frames(3)
    lab = vision_stub.label("跨界")
    # No separator: frame 0's bottom 6 rows and frame 1's top 14 rows form one rectangle.
    imgs[0][H - 6 :, 100 : 100 + lab.width] = 255
    imgs[1][:14, 100 : 100 + lab.width] = 255
    with _engine(vision_stub, separator=0) as eng:
        result = eng.annotate_batch(imgs)
    assert [len(f.lines) for f in result.frames] == [0, 1, 0]
    (line,) = result.frames[1].lines
    assert line.text == "跨界"
    assert _near(line, 100, 0, lab.width, 14)  # clipped to frame 1


def test_vision_merging_lines_across_frames_is_split_per_frame(vision_stub):
    vision_stub.merge_blocks = True  # one block + paragraph for the whole montage
    imgs = _frames(4)
    vision_stub.paint(imgs[1], "第一帧", 10, H - 22)
    vision_stub.paint(imgs[2], "第二帧", 10, 2)
    vision_stub.paint(imgs[2], "second line", 10, 100)
    with _engine(vision_stub) as eng:
        boxes = eng.recognize_batch(imgs)
    assert [[b.text for b in f] for f in boxes] == [[], ["第一帧"], ["第二帧", "second line"], []]


def test_requests_split_at_image_count_and_byte_limits(vision_stub):
    imgs = _frames(24)
    for i in range(24):
        vision_stub.paint(imgs[i], f"frame{i}", 5, 50)
    limits = VisionLimits(max_pixels=3 * H * W + 2 * 24 * W, max_images_per_request=2, max_request_bytes=150_000)
    with _engine(vision_stub, limits=limits) as eng:
        result = eng.annotate_batch(imgs)
    assert result.ok
    assert [f.lines[0].text for f in result.frames] == [f"frame{i}" for i in range(24)]
    assert result.montages >= 8 and len(vision_stub.requests) == result.requests >= 4
    for r in vision_stub.requests:
        assert len(r.images) <= 2
        assert r.body_bytes <= limits.max_request_bytes
        assert all(h <= 3 * H + 2 * 24 for h, _w in r.images)


def test_language_hints_and_feature_on_the_wire(vision_stub, monkeypatch):
    img = _frames(1)
    with _engine(vision_stub) as eng:
        eng.recognize(img[0])
    with _engine(vision_stub, lang="en") as eng:
        eng.recognize(img[0])
    monkeypatch.setenv("CAPTIONACC_VISION_LANGUAGE_HINTS", "ja, ko")
    with _engine(vision_stub, settings=Settings(_env_file=None)) as eng:
        eng.recognize(img[0])
    assert [r.language_hints[0] for r in vision_stub.requests] == [["zh-Hans"], ["en"], ["ja", "ko"]]
    assert vision_stub.requests[0].features == [[11]]  # DOCUMENT_TEXT_DETECTION
    assert vision_stub.requests[0].path == "/v1/images:annotate"


def test_captionacc_lang_beats_the_configured_hints(vision_stub, monkeypatch):
    monkeypatch.setenv("CAPTIONACC_LANG", "zh-TW")
    monkeypatch.setenv("CAPTIONACC_VISION_LANGUAGE_HINTS", "ja")
    with _engine(vision_stub, settings=Settings(_env_file=None)) as eng:
        assert eng.language_hints == ["zh-Hant"]
    with _engine(vision_stub, lang="en", settings=Settings(_env_file=None)) as eng:
        assert eng.language_hints == ["en"]


@pytest.mark.parametrize("lang,hints", [
    (None, ["zh-Hans"]), ("zh", ["zh-Hans"]), ("ch", ["zh-Hans"]), ("zh-TW", ["zh-Hant"]),
    ("en", ["en"]), ("auto", []), ("zh,en", ["zh-Hans", "en"]), ("vi", ["vi"]),
])
def test_language_hint_mapping(lang, hints):
    assert language_hints(lang) == hints


def test_transient_errors_are_retried_with_backoff(vision_stub):
    imgs = _frames(3)
    vision_stub.paint(imgs[1], "重试", 40, 40)
    vision_stub.fail_next = [503, 429, "drop", 500]
    vision_stub.retry_after = 0.5
    with _engine(vision_stub, max_attempts=6) as eng:
        result = eng.annotate_batch(imgs)
    assert result.ok and result.frames[1].lines[0].text == "重试"
    assert result.requests == 5 and [r.status for r in vision_stub.requests] == [503, 429, 0, 500, 200]
    # Exponential (0.01·2^k with jitter in [0.5, 1)), but never below a sent Retry-After.
    d = eng.delays
    assert len(d) == 4
    assert d[0] >= 0.5 and d[1] >= 0.5  # 503 and 429 carried Retry-After: 0.5
    assert 0.02 <= d[3] <= 0.08  # the 500's retry: 0.01·2^3 × [0.5, 1)


def test_failed_batch_marks_only_its_frames_and_is_never_silently_empty(vision_stub):
    imgs = _frames(12)
    for i in range(12):
        vision_stub.paint(imgs[i], f"f{i}", 5, 5)
    vision_stub.paint(imgs[7], "POISON", 100, 100)
    vision_stub.fail_when = lambda found: 503 if any(f.label.text == "POISON" for im in found for f in im) else None
    # 2 frames per montage, 2 montages per request → frames 4..7 share the poisoned request.
    limits = VisionLimits(max_tiles_per_montage=2, max_images_per_request=2)
    with _engine(vision_stub, limits=limits, max_attempts=3) as eng:
        result = eng.annotate_batch(imgs)
        assert sorted(result.failed) == [4, 5, 6, 7]
        assert all(result.frames[i] is None for i in (4, 5, 6, 7))
        assert "gave up after 3 attempts" in result.failed[4] and "ServiceUnavailable" in result.failed[4]
        assert [result.frames[i].lines[0].text for i in (0, 1, 2, 3, 8, 9, 10, 11)] == [
            f"f{i}" for i in (0, 1, 2, 3, 8, 9, 10, 11)
        ]
        with pytest.raises(VisionBatchError) as ei:
            eng.recognize_batch(imgs)
    err = ei.value
    assert isinstance(err, Transient) and err.retryable
    assert err.failed_indices == [4, 5, 6, 7]
    assert "4 of 12 frames" in str(err)
    assert err.result.frames[0].lines[0].text == "f0"


def test_per_image_errors_retry_transient_and_reject_permanent(vision_stub):
    imgs = _frames(6)
    for i in range(6):
        vision_stub.paint(imgs[i], f"g{i}", 5, 5)
    vision_stub.paint(imgs[0], "FLAKY", 100, 100)
    vision_stub.paint(imgs[4], "BAD", 100, 100)
    flaky = {"left": 2}

    def image_error(found):
        texts = {f.label.text for f in found}
        if "BAD" in texts:
            return 3, "Bad image data."
        if "FLAKY" in texts and flaky["left"]:
            flaky["left"] -= 1
            return 14, "Service unavailable, try again."
        return None

    vision_stub.image_error_when = image_error
    limits = VisionLimits(max_tiles_per_montage=2)  # montages {0,1} {2,3} {4,5}, one request
    with _engine(vision_stub, limits=limits) as eng:
        result = eng.annotate_batch(imgs)
    assert sorted(result.failed) == [4, 5] and result.permanent == {4, 5}
    assert [result.frames[i].lines[0].text for i in range(4)] == ["g0", "g1", "g2", "g3"]
    assert [len(r.images) for r in vision_stub.requests] == [3, 1, 1]  # only the flaky montage resent
    flaky["left"] = 0
    with _engine(vision_stub, limits=limits) as eng, pytest.raises(VisionRequestRejected) as ei:
        eng.recognize_batch(imgs)
    assert isinstance(ei.value, BadInput) and ei.value.failed_indices == [4, 5]


def test_auth_errors_are_fatal_not_retried(vision_stub):
    vision_stub.fail_next = [403]
    with _engine(vision_stub) as eng, pytest.raises(Fatal, match="credentials"):
        eng.recognize_batch(_frames(2))
    assert len(vision_stub.requests) == 1


def test_empty_batch_makes_no_request(vision_stub):
    with _engine(vision_stub) as eng:
        assert eng.recognize_batch([]) == []
    assert vision_stub.requests == []


def test_open_ocr_builds_the_engine_from_the_environment(vision_stub, monkeypatch):
    from tasks.ocr import open_ocr

    monkeypatch.setenv("CAPTIONACC_VISION_ENDPOINT", vision_stub.endpoint)
    imgs = _frames(1)
    vision_stub.paint(imgs[0], "环境", 10, 10)
    with open_ocr("google-vision", lang="zh") as eng:
        assert eng.name == "google-vision"
        assert eng.recognize(imgs[0])[0].text == "环境"


# --- credentials ---------------------------------------------------------------------------


def _service_account_json():
    pytest.importorskip("cryptography")  # to mint a throwaway RSA key
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({
        "type": "service_account", "project_id": "captionacc-test", "private_key_id": "abc123",
        "private_key": pem, "client_email": "ocr@captionacc-test.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token",
    })


@pytest.fixture(scope="module")
def sa_json():
    return _service_account_json()


def test_credentials_from_json_string_and_file(sa_json, tmp_path):
    from google.oauth2 import service_account

    creds = load_credentials(credentials_json=sa_json)
    assert isinstance(creds, service_account.Credentials)
    assert creds.service_account_email == "ocr@captionacc-test.iam.gserviceaccount.com"
    assert "https://www.googleapis.com/auth/cloud-vision" in creds.scopes
    p = tmp_path / "sa.json"
    p.write_text(sa_json)
    assert load_credentials(credentials_file=str(p)).service_account_email == creds.service_account_email
    assert load_credentials() is None


def test_bad_credentials_fail_without_echoing_the_secret(sa_json):
    broken = sa_json[:-20]  # truncated JSON
    with pytest.raises(Fatal) as ei:
        load_credentials(credentials_json=broken)
    assert "PRIVATE KEY" not in str(ei.value) and ei.value.__cause__ is None
    bad = json.loads(sa_json)
    bad["private_key"] = "-----BEGIN PRIVATE KEY-----\nnot a key SECRETSECRET\n-----END PRIVATE KEY-----\n"
    with pytest.raises(Fatal) as ei:
        load_credentials(credentials_json=json.dumps(bad))
    assert "SECRETSECRET" not in str(ei.value)


def test_credentials_json_from_env_is_never_logged_or_printed(vision_stub, sa_json, monkeypatch, caplog):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS_JSON", sa_json)
    s = Settings(_env_file=None)
    assert s.google_credentials_json.get_secret_value() == sa_json
    private = json.loads(sa_json)["private_key"]
    secret_bits = [private.splitlines()[1], "abc123"]
    for text in (repr(s), str(s), str(s.redacted()), s.model_dump_json()):
        assert not any(b in text for b in secret_bits)
    caplog.set_level(logging.DEBUG)
    imgs = _frames(2)
    vision_stub.fail_next = [503]
    # An https endpoint would use the service account; the plain-http stub gets anonymous creds.
    eng = GoogleVisionEngine(settings=s, api_endpoint=vision_stub.endpoint, sleep=lambda d: None)
    eng.recognize_batch(imgs)
    eng.close()
    assert not any(b in caplog.text or b in repr(eng) for b in secret_bits)


def test_https_endpoint_uses_the_service_account(sa_json):
    from google.oauth2 import service_account

    eng = GoogleVisionEngine(credentials_json=sa_json, api_endpoint="vision.example.invalid",
                             settings=Settings(_env_file=None))
    creds = eng._client.transport._credentials
    assert isinstance(creds, service_account.Credentials)
    assert sa_json not in repr(eng)
    eng.close()
