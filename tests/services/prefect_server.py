"""One Prefect API server (a real subprocess on a temporary SQLite database) per test session.

It takes ~10 s to start on a quiet machine, so every flow test shares it.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def prefect_server():
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
