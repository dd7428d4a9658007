"""One settings object for every layer above ``gpu_kernels``, read from the environment and ``.env``.

Nothing is read at import time: call :func:`load_settings` (or ``Settings()``) where a process
starts. Names follow the deployment's secrets: the Modal secret ``wasabi`` provides the
``WASABI_*`` variables, ``google-vision`` provides ``GOOGLE_APPLICATION_CREDENTIALS_JSON``.
Everything else is ``CAPTIONACC_*``. ``deploy/env.template`` documents every variable.

Secrets are :class:`pydantic.SecretStr`: ``repr``/``str``/logging show ``**********``; call
``.get_secret_value()`` only where the value is handed to a client.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gpu_kernels.limits import Limits

StorageKind = Literal["local", "s3"]
OcrName = Literal["rapidocr", "google-vision"]


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


def wasabi_endpoint(region: str) -> str:
    """Wasabi's S3 endpoint for a region (``us-east-1`` → ``https://s3.us-east-1.wasabisys.com``)."""
    return f"https://s3.{region}.wasabisys.com"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # Keyword overrides may use field names; the prefix keeps field names from matching
        # unrelated variables (``lang`` must never read the locale's ``LANG``).
        populate_by_name=True,
        env_prefix="CAPTIONACC_",
        frozen=True,
    )

    # --- storage -------------------------------------------------------------------------
    storage: StorageKind = Field("local", validation_alias=_env("CAPTIONACC_STORAGE"))
    storage_root: str = Field("./captionacc-data", validation_alias=_env("CAPTIONACC_STORAGE_ROOT"))
    wasabi_access_key: Optional[str] = Field(None, validation_alias=_env("WASABI_ACCESS_KEY"))
    wasabi_secret_key: Optional[SecretStr] = Field(None, validation_alias=_env("WASABI_SECRET_KEY"))
    wasabi_bucket: Optional[str] = Field(None, validation_alias=_env("WASABI_BUCKET"))
    wasabi_region: str = Field("us-east-1", validation_alias=_env("WASABI_REGION"))
    # Unset: Wasabi's endpoint for WASABI_REGION. Set it for SeaweedFS, MinIO or AWS.
    s3_endpoint_url: Optional[str] = Field(None, validation_alias=_env("S3_ENDPOINT_URL"))
    s3_multipart_threshold_mb: int = Field(
        16, ge=5, validation_alias=_env("CAPTIONACC_S3_MULTIPART_THRESHOLD_MB")
    )
    s3_multipart_chunk_mb: int = Field(16, ge=5, validation_alias=_env("CAPTIONACC_S3_MULTIPART_CHUNK_MB"))
    s3_max_attempts: int = Field(8, ge=1, validation_alias=_env("CAPTIONACC_S3_MAX_ATTEMPTS"))

    # --- OCR -----------------------------------------------------------------------------
    ocr: OcrName = Field("rapidocr", validation_alias=_env("CAPTIONACC_OCR"))
    lang: Optional[str] = Field(None, validation_alias=_env("CAPTIONACC_LANG"))
    # Comma-separated BCP-47 codes; empty means "let Vision detect the language".
    vision_language_hints: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["zh-Hans"], validation_alias=_env("CAPTIONACC_VISION_LANGUAGE_HINTS")
    )
    # host[:port] or a URL; unset = vision.googleapis.com. Tests point it at a local stub.
    vision_endpoint: Optional[str] = Field(None, validation_alias=_env("CAPTIONACC_VISION_ENDPOINT"))
    google_credentials_json: Optional[SecretStr] = Field(
        None, validation_alias=_env("GOOGLE_APPLICATION_CREDENTIALS_JSON")
    )
    google_credentials_file: Optional[str] = Field(
        None, validation_alias=_env("GOOGLE_APPLICATION_CREDENTIALS")
    )
    vision_timeout_s: float = Field(120.0, gt=0, validation_alias=_env("CAPTIONACC_VISION_TIMEOUT_S"))
    vision_max_attempts: int = Field(5, ge=1, validation_alias=_env("CAPTIONACC_VISION_MAX_ATTEMPTS"))
    vision_jpeg_quality: int = Field(92, ge=50, le=100, validation_alias=_env("CAPTIONACC_VISION_JPEG_QUALITY"))
    # 0 = only Vision's own limits bound a montage; set a cap if quality drops on tall stacks.
    vision_max_frames_per_montage: int = Field(
        0, ge=0, validation_alias=_env("CAPTIONACC_VISION_MAX_FRAMES_PER_MONTAGE")
    )

    # --- compute -------------------------------------------------------------------------
    device: Optional[str] = Field(None, validation_alias=_env("CAPTIONACC_DEVICE"))
    extents_model: str = Field("auto", validation_alias=_env("CAPTIONACC_EXTENTS_MODEL"))
    # Refine caption boundaries to the source frame (from frames kept during the main decode).
    refine_boundaries: bool = Field(True, validation_alias=_env("CAPTIONACC_REFINE_BOUNDARIES"))
    # OCR-check the caption spans the extents model was unsure of, or that are long: split where
    # the text changes, trim where it is absent, drop unsure spans without text.
    check_extents: bool = Field(True, validation_alias=_env("CAPTIONACC_CHECK_EXTENTS"))
    # NVDEC decoding on CUDA workers (software decoding when the GPU or codec cannot).
    hw_decode: bool = Field(True, validation_alias=_env("CAPTIONACC_HW_DECODE"))

    # --- limits per video (gpu_kernels.limits): over one → InputTooLarge, exit 2 ------------
    max_pixels: int = Field(7680 * 4320, ge=1, validation_alias=_env("CAPTIONACC_MAX_PIXELS"))
    max_duration_s: float = Field(4 * 3600.0, gt=0, validation_alias=_env("CAPTIONACC_MAX_DURATION_S"))
    max_fps: float = Field(240.0, gt=0, validation_alias=_env("CAPTIONACC_MAX_FPS"))
    max_gap_s: float = Field(300.0, gt=0, validation_alias=_env("CAPTIONACC_MAX_GAP_S"))
    max_output_bytes: int = Field(16 << 30, ge=1, validation_alias=_env("CAPTIONACC_MAX_OUTPUT_BYTES"))

    @property
    def limits(self) -> Limits:
        return Limits(self.max_pixels, self.max_duration_s, self.max_fps, self.max_gap_s, self.max_output_bytes)

    # --- services and dispatch -----------------------------------------------------------
    redis_url: str = Field("redis://localhost:6379/0", validation_alias=_env("CAPTIONACC_REDIS_URL", "REDIS_URL"))
    database_url: str = Field(
        "sqlite:///captionacc.db", validation_alias=_env("CAPTIONACC_DATABASE_URL", "DATABASE_URL")
    )
    backend: Literal["auto", "celery", "modal", "local"] = Field("auto", validation_alias=_env("CAPTIONACC_BACKEND"))
    modal_app_name: str = Field("captionacc-processing", validation_alias=_env("CAPTIONACC_MODAL_APP"))
    # Modal spend cap per UTC day; once spent the dispatcher sends jobs to Celery.
    modal_daily_budget_usd: float = Field(
        20.0, ge=0, validation_alias=_env("CAPTIONACC_MODAL_DAILY_BUDGET_USD")
    )

    @field_validator("storage_root")
    @classmethod
    def _absolute_root(cls, v: str) -> str:
        # Resolved once: workers and flows started in different directories see the same data.
        import os

        return os.path.abspath(os.path.expanduser(v))

    @field_validator("vision_language_hints", mode="before")
    @classmethod
    def _split_hints(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [p.strip() for p in v.split(",") if p.strip()]
        return v

    @field_validator(
        "wasabi_access_key", "wasabi_bucket", "s3_endpoint_url", "vision_endpoint", "google_credentials_file",
        "lang", "device", mode="before",
    )
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("wasabi_secret_key", "google_credentials_json", mode="before")
    @classmethod
    def _blank_secret_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("storage", "ocr", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    # --- derived -------------------------------------------------------------------------
    @property
    def s3_endpoint(self) -> str:
        return self.s3_endpoint_url or wasabi_endpoint(self.wasabi_region)

    def s3_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :class:`tasks.storage.s3.S3Storage`."""
        if not self.wasabi_bucket:
            raise ValueError("S3 storage needs WASABI_BUCKET")
        return dict(
            bucket=self.wasabi_bucket,
            endpoint_url=self.s3_endpoint,
            access_key=self.wasabi_access_key,
            secret_key=self.wasabi_secret_key.get_secret_value() if self.wasabi_secret_key else None,
            region=self.wasabi_region,
            multipart_threshold=self.s3_multipart_threshold_mb * 1024 * 1024,
            multipart_chunksize=self.s3_multipart_chunk_mb * 1024 * 1024,
            max_attempts=self.s3_max_attempts,
        )

    def redacted(self) -> dict[str, Any]:
        """Everything, safe to log: secrets masked, the credentials JSON reduced to set/unset."""
        out = self.model_dump()
        for k in ("wasabi_secret_key", "google_credentials_json"):
            out[k] = "**********" if out[k] is not None else None
        return out


# What ``captionacc run`` reads (local storage in --out, the local or Vision OCR, the model,
# the limits): a malformed S3, Redis or Modal variable belongs to another deployment and must
# not stop it.
LOCAL_RUN_FIELDS = frozenset({
    "ocr", "lang", "device", "extents_model", "refine_boundaries", "check_extents", "hw_decode",
    "max_pixels", "max_duration_s", "max_fps", "max_gap_s", "max_output_bytes",
    "vision_language_hints", "vision_endpoint", "google_credentials_json", "google_credentials_file",
    "vision_timeout_s", "vision_max_attempts", "vision_jpeg_quality", "vision_max_frames_per_montage",
})


def settings_for(used: frozenset[str] | set[str]) -> Settings:
    """Settings where only the fields in ``used`` must be valid: any other field with a
    malformed value (environment or ``.env``) gets its default, with a warning naming it. A
    malformed field in ``used`` raises ValidationError as ``Settings()`` does."""
    import logging

    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as e:
        by_alias = {a.upper(): name for name, f in Settings.model_fields.items()
                    for a in (getattr(f.validation_alias, "choices", None) or [name])}
        named = {str(err["loc"][0]).upper(): by_alias.get(str(err["loc"][0]).upper())
                 for err in e.errors() if err["loc"]}
        bad = set(named.values())
        if not bad or None in bad or bad & set(used):
            raise
        for var in sorted(named):
            logging.getLogger(__name__).warning("ignoring the malformed setting %s: this command does not use it", var)
        return Settings(**{name: Settings.model_fields[name].get_default(call_default_factory=True) for name in bad})


def load_settings(env_file: str | None = ".env", **overrides: Any) -> Settings:
    """Read the environment (and ``env_file`` if it exists); keyword overrides win over both."""
    return Settings(_env_file=env_file, **overrides)
