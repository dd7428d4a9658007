"""A real redis-server on a free port, started once per test session.

Skips (with the reason) when the ``redis-server`` binary is missing; ``make test`` installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RedisServer:
    host: str
    port: int
    proc: subprocess.Popen

    def url(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def client(self, db: int = 0):
        import redis

        return redis.Redis.from_url(self.url(db))


def start_redis(port: int | None = None, workdir: str | None = None, persistent: bool = False) -> RedisServer:
    """``persistent``: an append-only file fsynced on every write, so a restart on the same
    ``port`` and ``workdir`` keeps the queues (what a production broker needs)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; make test does)")
    port = port or free_port()
    workdir = workdir or tempfile.mkdtemp(prefix="captionacc-redis-")
    aof = ["--appendonly", "yes", "--appendfsync", "always"] if persistent else ["--appendonly", "no"]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", *aof,
         "--dir", workdir, "--protected-mode", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return RedisServer("127.0.0.1", port, proc)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


@pytest.fixture(scope="session")
def redis_server():
    server = start_redis()
    yield server
    server.proc.terminate()
    try:
        server.proc.wait(5)
    except subprocess.TimeoutExpired:
        server.proc.kill()


@pytest.fixture
def redis_db(redis_server):
    """A flushed database for one test (db 0 is shared; tests flush what they use)."""
    client = redis_server.client(0)
    client.flushdb()
    yield redis_server
    client.flushdb()
