"""Faults with real parts: a real S3 server (SeaweedFS) behind a real HTTP proxy that answers
500/503 or stalls; OCR engines that fail on some frames; secrets on every failure path.

Not here (another suite owns them): SIGKILL of a Celery worker mid-job, Redis restarts.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import re
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlparse

import numpy as np
import pytest

import tests.fixtures_media as fm
from tasks.chunks import ChunkReader
from tasks.crop_infer import crop_and_infer_caption_frame_extents
from tasks.errors import CaptionAccError, Fatal, MissingObject, Transient
from tasks.extract import extract_frames_and_ocr
from tasks.keys import VideoKeys
from tasks.ocr.base import OcrEngine
from tasks.storage import LocalStorage
from tests.services.seaweed import seaweed_s3  # noqa: F401 - fixture

from .conftest import TENANT, VIDEO
from .test_atomicity import assert_consistent
from .test_bad_inputs import NullOcr

T = f"{TENANT}/client/videos/{VIDEO}"
MB = 1024 * 1024


# --- a fault-injecting S3 proxy ---------------------------------------------------------------


@dataclass
class Seen:
    t: float
    method: str
    path: str
    status: int


@dataclass
class FaultProxy:
    """Forwards every request to ``upstream`` byte for byte (the Host header too, so SigV4
    signatures still verify), unless ``fault(n, method, path)`` returns a fault for request n:
    an HTTP status to answer with (an S3 XML error), or ``("delay", seconds)`` to stall first."""

    upstream: str
    fault: Callable[[int, str, str], object] = lambda n, m, p: None
    seen: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "FaultProxy":
        proxy = self
        up = urlparse(self.upstream)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                n_body = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n_body) if n_body else b""
                with proxy._lock:
                    n = len(proxy.seen)
                    proxy.seen.append(Seen(time.monotonic(), self.command, self.path, 0))
                    rec = proxy.seen[-1]
                f = proxy.fault(n, self.command, self.path)
                if isinstance(f, tuple) and f[0] == "delay":
                    time.sleep(f[1])
                    f = None
                if isinstance(f, int):
                    code = {500: "InternalError", 503: "SlowDown"}.get(f, "ServiceUnavailable")
                    data = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                            f"<Message>injected {f}</Message></Error>").encode() if self.command != "HEAD" else b""
                    rec.status = f
                    self.send_response(f)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
                    conn.request(self.command, self.path, body=body, headers=headers)
                    r = conn.getresponse()
                    data = r.read()
                    rec.status = r.status
                    self.send_response(r.status)
                    for k, v in r.getheaders():
                        if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(data)
                finally:
                    conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def attempts(self, method: str, needle: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == method and needle in s.path]


@pytest.fixture
def backoffs(monkeypatch):
    """Record every backoff botocore computes, and sleep 1/100 of it so the suite stays fast."""
    from botocore.retries import adaptive, standard

    seen: list[tuple[int, float]] = []
    real = standard.ExponentialBackoff.delay_amount

    def scaled(self, context):
        d = real(self, context)
        seen.append((context.attempt_number, d))
        return d / 100

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", scaled)
    # Adaptive mode also throttles the client after SlowDown answers (a token bucket); keep its
    # decision but not its wall-clock cost.
    real_acquire = adaptive.ClientRateLimiter.on_sending_request

    def no_wait(self, request, **kw):
        self._enabled = False  # the limiter still measures; it just never makes us wait
        return real_acquire(self, request, **kw)

    monkeypatch.setattr(adaptive.ClientRateLimiter, "on_sending_request", no_wait)
    return seen


@pytest.fixture
def proxied(seaweed_s3, backoffs):
    """(proxy, make_storage): S3Storage instances that reach SeaweedFS only through the proxy."""
    bucket = seaweed_s3.new_bucket("f")
    proxy = FaultProxy(seaweed_s3.endpoint_url).start()
    made = []

    def make(**kw):
        kw.setdefault("max_attempts", 4)
        st = seaweed_s3.storage(bucket, endpoint_url=proxy.endpoint, **kw)
        made.append(st)
        return st

    yield proxy, make
    for st in made:
        st.close()
    proxy.stop()


def _first_n(n: int, status, method: str | None = None, needle: str = ""):
    """Fail the first ``n`` requests matching method/path with ``status``."""
    hits = [0]
    lock = threading.Lock()

    def fault(_i, m, p):
        if (method is None or m == method) and needle in p:
            with lock:
                hits[0] += 1
                if hits[0] <= n:
                    return status
        return None

    return fault


@pytest.mark.parametrize("status", [500, 503])
def test_s3_put_and_get_retry_through_server_errors(proxied, status, backoffs):
    proxy, make = proxied
    st = make()
    proxy.fault = _first_n(2, status, "PUT")
    t0 = time.monotonic()
    st.put_bytes(f"{T}/captions.srt", b"1\n00:00:00,000 --> 00:00:01,000\nhi\n")
    puts = proxy.attempts("PUT")
    assert [s.status for s in puts] == [status, status, 200]  # retried, then through
    proxy.fault = _first_n(2, status, "GET")
    assert st.get_bytes(f"{T}/captions.srt").endswith(b"hi\n")
    assert [s.status for s in proxy.attempts("GET")] == [status, status, 200]
    # botocore backs off exponentially with full jitter: delay_i = rand() * min(scale * 2**(i-1), 20),
    # scale 1 s for throttling (503 SlowDown), 50 ms otherwise.
    scale = 1.0 if status == 503 else 0.05
    assert [a for a, _ in backoffs] == [1, 2, 1, 2]  # two backoffs per call
    assert all(0 <= d <= scale * 2 ** (a - 1) for a, d in backoffs)
    assert time.monotonic() - t0 < 30


def test_s3_gives_up_after_the_limit_with_a_transient_error(proxied):
    proxy, make = proxied
    st = make(max_attempts=3)
    proxy.fault = lambda n, m, p: 503
    with pytest.raises(Transient, match="S3 error") as ei:
        st.put_bytes(f"{T}/x.json", b"{}")
    assert ei.value.retryable and isinstance(ei.value, CaptionAccError)
    # botocore's Config(retries={"max_attempts": N}) counts *retries*: N + 1 requests in all.
    # (S3Storage's "max_attempts" is off by one; see test_s3_max_attempts_means_attempts.)
    assert len(proxy.attempts("PUT")) in (3, 4)
    with pytest.raises(Transient):  # HEAD answers have no body: still typed
        st.exists(f"{T}/x.json")
    proxy.fault = lambda n, m, p: None
    assert not st.exists(f"{T}/x.json")  # nothing half-written was left behind


def test_s3_max_attempts_means_attempts(proxied):
    proxy, make = proxied
    st = make(max_attempts=2)
    proxy.fault = lambda n, m, p: 500
    with pytest.raises(Transient):
        st.put_bytes(f"{T}/x.json", b"{}")
    assert len(proxy.attempts("PUT")) == 2


def test_s3_slow_response_times_out_and_is_retried(proxied):
    proxy, make = proxied
    st = make(read_timeout=0.5)
    slow = [True]

    def fault(n, m, p):
        if m == "GET" and slow[0]:
            slow[0] = False
            return ("delay", 2.0)
        return None

    st.put_bytes(f"{T}/a.json", b'{"a": 1}')
    proxy.fault = fault
    t0 = time.monotonic()
    assert st.get_bytes(f"{T}/a.json") == b'{"a": 1}'
    assert len(proxy.attempts("GET")) == 2 and 0.5 <= time.monotonic() - t0 < 10


def test_s3_slow_beyond_the_limit_is_transient(proxied):
    proxy, make = proxied
    st = make(read_timeout=0.3, max_attempts=2)
    st.put_bytes(f"{T}/a.json", b"{}")
    proxy.fault = lambda n, m, p: ("delay", 1.0) if m == "GET" else None
    with pytest.raises(Transient, match="Timeout"):
        st.get_bytes(f"{T}/a.json")


def test_s3_multipart_part_failure_is_retried_and_the_object_is_whole(proxied):
    proxy, make = proxied
    st = make(multipart_threshold=5 * MB, multipart_chunksize=5 * MB, max_concurrency=2)
    data = os.urandom(11 * MB)
    proxy.fault = _first_n(1, 503, "PUT", "partNumber=2")
    st.put_fileobj(f"{T}/video.mp4", io.BytesIO(data))
    assert st.get_bytes(f"{T}/video.mp4") == data
    assert [s.status for s in proxy.attempts("PUT", "partNumber=2")] == [503, 200]


def test_job_on_flaky_s3_completes_with_whole_outputs(proxied, tmp_path):
    """Every 4th request fails once with a 500 or 503: the job still publishes a whole version."""
    proxy, make = proxied
    st = make()
    keys = VideoKeys(TENANT, VIDEO)
    st.put_file(keys.video, fm.h264(str(tmp_path / "c.mp4"), n=40))
    proxy.fault = lambda n, m, p: (503 if n % 8 == 3 else 500) if n % 4 == 3 else None
    from tasks.context import JobContext

    ctx = JobContext(storage=st, device_name="cpu", predictor_name="classical")
    ctx._ocr = NullOcr()
    r = crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, (0, 0, 1, 1), ctx=ctx)
    extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=ctx)
    assert sum(s.status in (500, 503) for s in proxy.seen) >= 3
    proxy.fault = lambda n, m, p: None
    assert assert_consistent(st, keys) == r.version
    with ChunkReader(st, r.cropped_frames_prefix) as reader:
        assert reader.frame_count == 40


def test_job_when_s3_stays_down_fails_typed_and_leaves_nothing_complete(proxied, tmp_path):
    proxy, make = proxied
    st = make(max_attempts=2)
    keys = VideoKeys(TENANT, VIDEO)
    st.put_file(keys.video, fm.h264(str(tmp_path / "c.mp4"), n=40))
    from tasks.context import JobContext

    ctx = JobContext(storage=st, device_name="cpu", predictor_name="classical")
    ctx._ocr = NullOcr()
    crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, (0, 0, 1, 1), ctx=ctx)  # v1, whole
    # From the second chunk of the next run on, S3 is down (even the cleanup's deletes fail).
    state = {"puts": 0}

    def fault(n, m, p):
        if m == "PUT" and "cropped_frames_v2" in p:
            state["puts"] += 1
        return 503 if state["puts"] >= 2 else None

    proxy.fault = fault
    with pytest.raises(Transient):
        crop_and_infer_caption_frame_extents(keys.video, TENANT, VIDEO, (0, 0.5, 1, 1), ctx=ctx)
    proxy.fault = lambda n, m, p: None
    assert not st.exists(keys.cropped_frames(2) + "/manifest.json")
    with pytest.raises(MissingObject):
        ChunkReader(st, keys.cropped_frames(2))  # a leftover chunk never reads as a version
    assert assert_consistent(st, keys) == 1  # the previous complete run is still live


# --- OCR engines that fail -------------------------------------------------------------------


class FlakyOcr(OcrEngine):
    """Always fails on the ``bad``-th distinct image it is shown (0-based), retries included,
    like an engine that chokes on one particular frame."""

    name = "flaky"

    def __init__(self, bad: set[int]) -> None:
        self.bad, self.seen = bad, {}

    def recognize(self, image):
        i = self.seen.setdefault(hash(image.tobytes()), len(self.seen))
        if i in self.bad:
            raise RuntimeError(f"engine crashed on image {i}")
        return []


class ShortOcr(OcrEngine):
    """Returns one result fewer than the images it was given (a buggy batch API)."""

    name = "short"

    def recognize(self, image):
        return []

    def recognize_batch(self, images):
        return [[] for _ in images][:-1]


def _extract_ctx(tmp_path, ocr):
    from tasks.context import JobContext

    st = LocalStorage(tmp_path / "bucket")
    keys = VideoKeys(TENANT, VIDEO)
    st.put_file(keys.video, fm.h264(str(tmp_path / "c.mp4"), n=20))
    ctx = JobContext(storage=st, device_name="cpu", predictor_name="classical")
    ctx._ocr = ocr
    return st, keys, ctx


def test_ocr_failure_on_one_frame_is_counted_and_the_job_goes_on(tmp_path):
    st, keys, ctx = _extract_ctx(tmp_path, FlakyOcr({3}))
    r = extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=ctx)
    from tasks.databases import open_db

    with open_db(st, keys.raw_ocr_db) as conn:
        meta = dict(conn.execute("SELECT key, value FROM metadata"))
    assert r.frame_count == 20 and int(meta["ocr_failed_frames"]) == 1


def test_engine_returning_too_few_results_is_not_silent(tmp_path):
    st, keys, ctx = _extract_ctx(tmp_path, ShortOcr())
    with pytest.raises(Fatal, match="returned 7 results for 8 images"):
        extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=ctx)
    assert not st.exists(keys.raw_ocr_db) and not st.exists(keys.layout_db)  # nothing looks complete


# --- secrets never leak ----------------------------------------------------------------------

S3_SECRET = "S3SECRET-do-not-leak-0123456789abcdef"
GCP_MARKER = "GCPPRIVATEKEYMARKER0123456789"


def _everything(e: BaseException) -> str:
    """Every text a caller, a log or a result backend could get from an exception."""
    parts = ["".join(traceback.format_exception(e)), repr(e), str(getattr(e, "args", ""))]
    c = e
    while c is not None:
        parts += [repr(c), str(c), repr(getattr(c, "__dict__", {}))]
        c = c.__cause__ or c.__context__
    return "\n".join(parts)


def test_s3_secret_never_in_errors_logs_or_reprs(seaweed_s3, caplog, backoffs):
    caplog.set_level(logging.DEBUG)  # botocore logs signing details at DEBUG
    proxy = FaultProxy(seaweed_s3.endpoint_url, fault=lambda n, m, p: 503).start()
    texts = []
    try:
        from tasks.settings import Settings
        from tasks.storage.s3 import S3Storage

        s = Settings(_env_file=None, storage="s3", wasabi_bucket=seaweed_s3.bucket, wasabi_access_key="AKIATEST",
                     wasabi_secret_key=S3_SECRET, s3_endpoint_url=proxy.endpoint, s3_max_attempts=2)
        with S3Storage.from_settings(s) as st:
            for call in (lambda: st.put_bytes(f"{T}/a.json", b"{}"), lambda: st.get_bytes(f"{T}/a.json"),
                         lambda: st.list(T)):
                with pytest.raises(Transient) as ei:
                    call()
                texts.append(_everything(ei.value))
            texts += [repr(st), repr(s), json.dumps(s.redacted(), default=str)]
        with S3Storage.from_settings(s.model_copy(update={"s3_endpoint_url": seaweed_s3.endpoint_url})) as st:
            with pytest.raises(Fatal) as ei:  # the wrong secret for this server: refused
                st.put_bytes(f"{T}/a.json", b"{}")
            texts.append(_everything(ei.value))
    finally:
        proxy.stop()
    texts.append(caplog.text)
    texts += [r.getMessage() + repr(r.args) for r in caplog.records]
    assert caplog.records  # botocore did log: the check below is not vacuous
    assert not any(S3_SECRET in t for t in texts)


def test_google_credentials_never_in_errors_logs_or_reprs(monkeypatch, caplog, vision_stub_failing):
    from tasks.ocr.google_vision import GoogleVisionEngine
    from tasks.settings import Settings

    caplog.set_level(logging.DEBUG)
    creds = json.dumps({"type": "service_account", "project_id": "p", "private_key_id": GCP_MARKER + "id",
                        "private_key": f"-----BEGIN PRIVATE KEY-----\n{GCP_MARKER}\n-----END PRIVATE KEY-----\n",
                        "client_email": "x@p.iam.gserviceaccount.com", "token_uri": "https://127.0.0.1:9/token"})
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS_JSON", creds)
    texts = []
    # A TLS endpoint: the credentials are parsed (and refused: the key is no key).
    with pytest.raises(Fatal) as ei:
        GoogleVisionEngine(api_endpoint="127.0.0.1:9", settings=Settings(_env_file=None))
    texts.append(_everything(ei.value))
    # The stub (plain HTTP) fails every request: the Vision call fails Transient after retries.
    s = Settings(_env_file=None)
    assert s.google_credentials_json is not None
    eng = GoogleVisionEngine(api_endpoint=vision_stub_failing.endpoint, settings=s, max_attempts=2,
                             sleep=lambda _s: None, backoff_base=0.01)
    with pytest.raises(Transient) as ei:
        eng.recognize_batch([np.zeros((40, 80, 3), np.uint8)])
    texts += [_everything(ei.value), repr(eng), repr(s), json.dumps(s.redacted(), default=str), caplog.text]
    eng.close()
    assert not any(GCP_MARKER in t for t in texts)


@pytest.fixture
def vision_stub_failing():
    from tests.services.vision_stub import VisionStub

    stub = VisionStub()
    stub.fail_when = lambda found: 500
    stub.start()
    yield stub
    stub.stop()


def test_compose_services_are_not_exposed_without_auth():
    """docker-compose.gpu.yml: every published port binds loopback only; Flower demands a
    password (no default); no secret value is written into the file itself."""
    import yaml

    from .conftest import REPO

    path = os.path.join(REPO, "docker-compose.gpu.yml")
    text = open(path, encoding="utf-8").read()
    services = yaml.safe_load(text)["services"]
    for name, svc in services.items():
        for port in svc.get("ports") or []:
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
    flower_env = services["flower"].get("environment") or {}
    auth = flower_env.get("FLOWER_BASIC_AUTH", "") if isinstance(flower_env, dict) else ""
    assert ":?" in auth, "Flower must refuse to start without FLOWER_PASSWORD"
    for secret in ("WASABI_SECRET_KEY", "GOOGLE_APPLICATION_CREDENTIALS_JSON", "FLOWER_PASSWORD"):
        for m in re.finditer(rf"^\s*-?\s*{secret}\s*[:=]\s*(\S+)", text, re.M):
            assert m.group(1).startswith("$"), f"{secret} has a literal value"  # only ${VAR...}


def test_ocr_isolation_lets_a_time_limit_through(tmp_path):
    """Retrying frame by frame must not swallow the runner's stop signal (Celery's soft time
    limit arrives as an exception inside the OCR engine, often wrapped by it)."""

    class SoftTimeLimitExceeded(Exception):  # what celery.exceptions raises, matched by name
        pass

    class StoppedOcr(OcrEngine):
        name = "stopped"

        def recognize(self, image):
            try:
                raise SoftTimeLimitExceeded("soft time limit (1s) exceeded")
            except SoftTimeLimitExceeded as e:
                raise RuntimeError("onnxruntime run failed") from e  # engines wrap it

    st, keys, ctx = _extract_ctx(tmp_path, StoppedOcr())
    with pytest.raises(RuntimeError, match="onnxruntime"):
        extract_frames_and_ocr(keys.video, TENANT, VIDEO, ctx=ctx)
    assert not st.exists(keys.raw_ocr_db)
