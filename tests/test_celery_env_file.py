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
