"""Settings: defaults, environment, .env, secrets never shown, and the template documents all."""

from __future__ import annotations

import os
import re

import pytest
from pydantic import ValidationError

from tasks.settings import Settings, load_settings

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_VARS = [
    "CAPTIONACC_STORAGE", "CAPTIONACC_STORAGE_ROOT", "WASABI_ACCESS_KEY", "WASABI_SECRET_KEY", "WASABI_BUCKET",
    "WASABI_REGION", "S3_ENDPOINT_URL", "CAPTIONACC_OCR", "CAPTIONACC_LANG", "CAPTIONACC_VISION_LANGUAGE_HINTS",
    "CAPTIONACC_VISION_ENDPOINT", "GOOGLE_APPLICATION_CREDENTIALS_JSON", "GOOGLE_APPLICATION_CREDENTIALS",
    "CAPTIONACC_DEVICE", "CAPTIONACC_EXTENTS_MODEL", "CAPTIONACC_REDIS_URL", "REDIS_URL",
    "CAPTIONACC_DATABASE_URL", "DATABASE_URL", "CAPTIONACC_MODAL_DAILY_BUDGET_USD", "CAPTIONACC_BACKEND",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for k in list(os.environ):
        if k.startswith(("CAPTIONACC_", "WASABI_", "GOOGLE_APPLICATION_")) or k in (
            "S3_ENDPOINT_URL", "REDIS_URL", "DATABASE_URL"
        ):
            monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)  # no stray .env from the repo


def test_defaults():
    s = Settings()
    assert s.storage == "local" and s.ocr == "rapidocr"
    assert s.vision_language_hints == ["zh-Hans"]
    assert s.wasabi_region == "us-east-1" and s.s3_endpoint == "https://s3.us-east-1.wasabisys.com"
    assert s.google_credentials_json is None and s.vision_endpoint is None
    assert s.modal_daily_budget_usd > 0 and s.backend == "auto"


def test_environment_and_seed_secret_names(monkeypatch):
    env = {
        "CAPTIONACC_STORAGE": "S3", "WASABI_ACCESS_KEY": "AK", "WASABI_SECRET_KEY": "SK-very-secret",
        "WASABI_BUCKET": "caption-acc-prod", "WASABI_REGION": "eu-central-1", "S3_ENDPOINT_URL": "",
        "CAPTIONACC_OCR": "google-vision", "CAPTIONACC_VISION_LANGUAGE_HINTS": "zh-Hant, en",
        "GOOGLE_APPLICATION_CREDENTIALS_JSON": '{"type":"service_account","private_key":"PRIVATE-xyz"}',
        "REDIS_URL": "redis://redis:6379/1", "CAPTIONACC_MODAL_DAILY_BUDGET_USD": "12.5",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    s = Settings()
    assert s.storage == "s3" and s.ocr == "google-vision"
    assert s.vision_language_hints == ["zh-Hant", "en"]
    assert s.s3_endpoint_url is None and s.s3_endpoint == "https://s3.eu-central-1.wasabisys.com"
    kw = s.s3_kwargs()
    assert kw["bucket"] == "caption-acc-prod" and kw["secret_key"] == "SK-very-secret"
    assert s.redis_url == "redis://redis:6379/1" and s.modal_daily_budget_usd == 12.5
    shown = " ".join([repr(s), str(s), str(s.redacted()), s.model_dump_json()])
    assert "SK-very-secret" not in shown and "PRIVATE-xyz" not in shown


def test_dotenv_file_and_overrides(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("CAPTIONACC_STORAGE_ROOT=/data/bucket\nCAPTIONACC_VISION_LANGUAGE_HINTS=\n")
    s = load_settings()
    assert s.storage_root == "/data/bucket"
    assert s.vision_language_hints == []  # empty = let Vision detect
    monkeypatch.setenv("CAPTIONACC_STORAGE_ROOT", "/from/env")
    assert load_settings().storage_root == "/from/env"  # the environment beats .env
    assert load_settings(storage_root="/override").storage_root == "/override"
    assert load_settings(env_file=None).vision_language_hints == ["zh-Hans"]


def test_invalid_values_fail_early(monkeypatch):
    monkeypatch.setenv("CAPTIONACC_OCR", "tesseract")
    with pytest.raises(ValidationError):
        Settings()
    monkeypatch.delenv("CAPTIONACC_OCR")
    with pytest.raises(ValueError, match="WASABI_BUCKET"):
        Settings().s3_kwargs()


def test_env_template_documents_every_variable():
    text = open(os.path.join(REPO, "deploy", "env.template"), encoding="utf-8").read()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    missing = [v for v in ALL_VARS if v not in documented]
    assert not missing, missing
    for field in Settings.model_fields.values():
        names = field.validation_alias.choices if field.validation_alias else []
        assert any(n in documented for n in names), names


def test_the_template_itself_is_a_valid_env_file():
    s = load_settings(env_file=os.path.join(REPO, "deploy", "env.template"))
    assert s.storage == "local" and s.wasabi_secret_key is None and s.s3_endpoint_url is None
    assert s.vision_language_hints == ["zh-Hans"] and s.device is None and s.lang is None


def test_generic_variables_do_not_leak_in(monkeypatch):
    for k, v in {"LANG": "C.UTF-8", "DEVICE": "gpu0", "STORAGE": "s3", "OCR": "google-vision",
                 "BACKEND": "modal", "LANGUAGE": "en"}.items():
        monkeypatch.setenv(k, v)
    s = Settings(_env_file=None)
    assert (s.lang, s.device, s.storage, s.ocr, s.backend) == (None, None, "local", "rapidocr", "auto")


def test_settings_for_a_use_ignore_only_what_it_does_not_read(monkeypatch, caplog):
    from pydantic import ValidationError

    from tasks.settings import LOCAL_RUN_FIELDS, settings_for

    monkeypatch.setenv("CAPTIONACC_S3_MAX_ATTEMPTS", "many")
    with pytest.raises(ValidationError):
        Settings()  # a worker, which reads everything, still refuses it
    s = settings_for(LOCAL_RUN_FIELDS)
    assert s.s3_max_attempts == 8 and "CAPTIONACC_S3_MAX_ATTEMPTS" in caplog.text
    monkeypatch.setenv("CAPTIONACC_MAX_GAP_S", "long")  # one the local run reads: refused
    with pytest.raises(ValidationError, match="CAPTIONACC_MAX_GAP_S"):
        settings_for(LOCAL_RUN_FIELDS)


def test_the_local_storage_root_is_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CAPTIONACC_STORAGE_ROOT", "data/bucket")
    assert Settings().storage_root == str(tmp_path / "data" / "bucket")  # the same wherever it is used next
