"""The Modal app ``captionacc-processing``: the same three jobs as Modal functions (burst GPUs).

Each function validates its arguments and calls the same ``tasks.*`` function the Celery tasks
call (``workers.celery_tasks.call_job``), on one JobContext per container, built on the first
call and reused by every later call in that container. Only ``modal`` is imported at the top.

GPU classes, timeouts and retries are the seed's (T4 1800 s 0, A10G 3600 s 0, T4 300 s 1).
Modal retries any exception, so a ``BadInput`` (retrying cannot help) is returned as an error
envelope instead of raised; :func:`unwrap` turns it back into the same exception for the caller.

Deploy: ``modal deploy -m workers.modal_app`` (see ``deploy/modal.md``). Settings read when the
module is imported by ``modal deploy``: CAPTIONACC_MODAL_APP (name), CAPTIONACC_MODAL_MAX_CONTAINERS
(default 10), CAPTIONACC_MODAL_OCR (default google-vision).
"""

from __future__ import annotations

import os

import modal

APP_NAME = os.environ.get("CAPTIONACC_MODAL_APP", "captionacc-processing")
MAX_CONTAINERS = int(os.environ.get("CAPTIONACC_MODAL_MAX_CONTAINERS", "10"))
MODEL_DIR = "/models"
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from .job_envelope import ERROR_KEY, unwrap, wrap_bad_input  # noqa: F401 - ERROR_KEY, unwrap: re-exported for callers

# What the image ships: exactly what deploy/Dockerfile COPYs (tests check they agree). Never the
# checkout as a whole: its .env holds Wasabi and Google keys, and build/ or benchmark caches are
# gigabytes.
SHIPPED = ("pyproject.toml", "README.md", "gpu_kernels", "tasks", "workers", "synth", "deploy", "prefect.yaml")
_IGNORE = ["**/__pycache__", "**/*.pyc", "**/.env", "**/.env.*"]


def _with_sources(img: "modal.Image") -> "modal.Image":
    for rel in SHIPPED:
        src, dst = os.path.join(_ROOT, rel), f"/opt/captionacc/{rel}"
        img = (img.add_local_dir(src, dst, copy=True, ignore=_IGNORE) if os.path.isdir(src)
               else img.add_local_file(src, dst, copy=True))
    return img


image = (
    _with_sources(modal.Image.debian_slim(python_version="3.11")
    .apt_install("libgl1", "libglib2.0-0", "fonts-wqy-microhei",
                 # Models for Cyrillic, Korean and Vietnamese captions and --lang auto (tasks/ocr/languages.py).
                 *(f"tesseract-ocr-{m}" for m in ("osd", "eng", "rus", "ukr", "bul", "kor", "vie", "script-cyrl",
                                                   "script-hang", "script-viet")))
    # The same torch as the Makefile; the PyPI Linux wheel is the CUDA build.
    .pip_install("torch==2.13.0"))
    # The same versions as `make install` and deploy/Dockerfile.
    .run_commands("pip install -c /opt/captionacc/deploy/constraints.txt /opt/captionacc")
    .env({
        "CAPTIONACC_STORAGE": "s3",
        "CAPTIONACC_DEVICE": "cuda",
        "CAPTIONACC_OCR": os.environ.get("CAPTIONACC_MODAL_OCR", "google-vision"),
    })
)
models = modal.Volume.from_name("captionacc-models", create_if_missing=True)
wasabi = modal.Secret.from_name("wasabi")
google_vision = modal.Secret.from_name("google-vision")

app = modal.App(APP_NAME, image=image)

# The seed's resource table; tests check it against workers.celery_app.JOBS.
FUNCTIONS = {
    "extract_frames_and_ocr": dict(gpu="T4", timeout=1800, retries=0, secrets=[wasabi, google_vision]),
    "crop_and_infer_caption_frame_extents": dict(gpu="A10G", timeout=3600, retries=0, secrets=[wasabi]),
    "generate_caption_ocr": dict(gpu="T4", timeout=300, retries=1, secrets=[wasabi, google_vision]),
    # Ours: a flow's captions in batches (workers.celery_app.JOBS has the same limits).
    "generate_caption_ocr_batch": dict(gpu="T4", timeout=1800, retries=1, secrets=[wasabi, google_vision]),
}


def _options(name: str) -> dict:
    o = dict(FUNCTIONS[name])
    if o["retries"]:
        o["retries"] = modal.Retries(max_retries=o["retries"], initial_delay=2.0, backoff_coefficient=2.0)
    return dict(o, volumes={MODEL_DIR: models}, min_containers=0, max_containers=MAX_CONTAINERS)


def _run(job: str, kwargs: dict) -> dict:
    from gpu_kernels.errors import BadInput
    from workers.celery_tasks import call_job  # one JobContext per container (module global)

    try:
        return call_job(job, kwargs)
    except BadInput as e:
        return wrap_bad_input(e)


@app.function(**_options("extract_frames_and_ocr"))
def extract_frames_and_ocr(video_key: str, tenant_id: str, video_id: str, frame_rate: float = 0.1) -> dict:
    return _run("extract_frames_and_ocr", dict(
        video_key=video_key, tenant_id=tenant_id, video_id=video_id, frame_rate=frame_rate))


@app.function(**_options("crop_and_infer_caption_frame_extents"))
def crop_and_infer_caption_frame_extents(video_key: str, tenant_id: str, video_id: str, crop_region,
                                         frame_rate: float = 10.0, extra_regions=None) -> dict:
    def plain(r):  # a CropRegion from a Python caller
        return list(r.as_tuple()) if hasattr(r, "as_tuple") else r
    return _run("crop_and_infer_caption_frame_extents", dict(
        video_key=video_key, tenant_id=tenant_id, video_id=video_id,
        crop_region=plain(crop_region), frame_rate=frame_rate,
        extra_regions=None if extra_regions is None else [plain(r) for r in extra_regions]))


@app.function(**_options("generate_caption_ocr"))
def generate_caption_ocr(chunks_prefix: str, start_frame: int, end_frame: int) -> dict:
    return _run("generate_caption_ocr", dict(
        chunks_prefix=chunks_prefix, start_frame=start_frame, end_frame=end_frame))


@app.function(**_options("generate_caption_ocr_batch"))
def generate_caption_ocr_batch(chunks_prefix: str, ranges: list, known: list | None = None) -> dict:
    return _run("generate_caption_ocr_batch", dict(chunks_prefix=chunks_prefix, ranges=ranges, known=known))
