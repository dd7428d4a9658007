"""Celery reads its broker where every other setting is read: the environment, else ``.env``."""

from workers.celery_app import broker_url, celery_config


def test_broker_named_only_in_dot_env_is_used(tmp_path, monkeypatch):
    for name in ("CAPTIONACC_REDIS_URL", "CELERY_BROKER_URL", "REDIS_URL", "CELERY_RESULT_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert broker_url() == "redis://127.0.0.1:6379/0"
    (tmp_path / ".env").write_text("CAPTIONACC_REDIS_URL=redis://queue.internal:6390/3\n", encoding="utf-8")
    assert broker_url() == "redis://queue.internal:6390/3"
    assert celery_config()["result_backend"] == "redis://queue.internal:6390/3"
    # The environment still wins over the file, as for every setting.
    monkeypatch.setenv("CAPTIONACC_REDIS_URL", "redis://10.0.0.9:6379/1")
    assert broker_url() == "redis://10.0.0.9:6379/1"


def test_reprocess_wait_fails_fast_without_redis_or_a_worker(tmp_path):
    """Not the job's time limit (up to 3,660 s) of silence: one line and exit 3 in seconds."""
    import os
    import subprocess
    import sys
    import time

    from tests.services.redis_server import start_redis

    exe = os.path.join(os.path.dirname(sys.executable), "captionacc")
    args = [exe, "reprocess", "caption-ocr", "--chunks-prefix",
            "11111111-1111-4111-8111-111111111111/client/videos/22222222-2222-4222-8222-222222222222/cropped_frames_v1/",
            "--start", "0", "--end", "5", "--wait"]
    server = start_redis()
    try:
        for url, says in (("redis://127.0.0.1:1/0", "error: Redis at 127.0.0.1:1 is unreachable"),
                          (server.url(0), "error: no worker consumes gpu-t4 (start one: captionacc worker --gpu t4)")):
            env = dict(os.environ, CAPTIONACC_REDIS_URL=url, CELERY_RESULT_BACKEND=url)
            t0 = time.monotonic()
            p = subprocess.run(args, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=60)
            assert p.returncode == 3 and p.stderr.strip().startswith(says), p.stderr
            assert len(p.stderr.strip().splitlines()) == 1 and time.monotonic() - t0 < 10
        assert server.client(0).llen("gpu-t4") == 0  # nothing was queued for a worker that is not there
    finally:
        server.proc.kill()
