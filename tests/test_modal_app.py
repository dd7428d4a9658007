"""The Modal app: declarations checked against the seed, bodies run in-process with ``.local()``.

The cloud path (``modal deploy`` and ``.remote()`` on Modal's GPUs) is not exercised here: it
needs a Modal account and the network.
"""

from __future__ import annotations

import warnings

import pytest

from tests.services.celery_workers import (  # noqa: F401 - fixtures
    CROP, TENANT, VIDEO, clip_path, reference_run, video_key,
)

pytestmark = pytest.mark.filterwarnings("ignore:.*executing locally:UserWarning")


@pytest.fixture(scope="module")
def modal_app():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from workers import modal_app

    return modal_app


def test_app_matches_the_seed(modal_app):
    from workers.celery_app import JOBS

    assert modal_app.app.name == "captionacc-processing"
    import modal

    assert set(modal_app.FUNCTIONS) == set(JOBS)
    assert all(isinstance(getattr(modal_app, name), modal.Function) for name in JOBS)
    seed = {"extract_frames_and_ocr": ("T4", 1800, 0, {"wasabi", "google-vision"}),
            "crop_and_infer_caption_frame_extents": ("A10G", 3600, 0, {"wasabi"}),
            "generate_caption_ocr": ("T4", 300, 1, {"wasabi", "google-vision"}),
            # ours, beside the seed's three: the flows' batched caption OCR
            "generate_caption_ocr_batch": ("T4", 1800, 1, {"wasabi", "google-vision"})}
    for name, (gpu, timeout, retries, secrets) in seed.items():
        opts = modal_app._options(name)
        assert (opts["gpu"], opts["timeout"]) == (gpu, timeout)
        r = opts["retries"]
        assert (r if isinstance(r, int) else r.max_retries) == retries
        assert opts["min_containers"] == 0 and opts["max_containers"] == modal_app.MAX_CONTAINERS
        assert modal_app.MODEL_DIR in opts["volumes"]
        assert {s.name for s in opts["secrets"]} == secrets
        spec = getattr(modal_app, name)._spec_
        assert spec.gpus == gpu
        assert (JOBS[name].gpu.upper(), JOBS[name].timeout, JOBS[name].retries) == (gpu, timeout, retries)


@pytest.fixture
def bucket(tmp_path, monkeypatch, clip_path):
    """The container's environment, pointed at a local bucket holding the test clip."""
    from tasks.storage import LocalStorage
    from workers import celery_tasks

    root = tmp_path / "bucket"
    monkeypatch.setenv("CAPTIONACC_STORAGE", "local")
    monkeypatch.setenv("CAPTIONACC_STORAGE_ROOT", str(root))
    monkeypatch.setenv("CAPTIONACC_DEVICE", "cpu")
    celery_tasks.close_worker_context()
    storage = LocalStorage(root)
    storage.put_file(video_key(TENANT, VIDEO), clip_path)
    yield storage, VIDEO
    celery_tasks.close_worker_context()


def test_function_bodies_run_locally_like_the_jobs(modal_app, bucket, reference_run):
    from workers.celery_tasks import worker_context

    storage, video = bucket
    key = video_key(TENANT, video)
    got = {
        "extract_frames_and_ocr": modal_app.extract_frames_and_ocr.local(key, TENANT, video, 1.0),
        "crop_and_infer_caption_frame_extents":
            modal_app.crop_and_infer_caption_frame_extents.local(key, TENANT, video, CROP),
    }
    prefix = got["crop_and_infer_caption_frame_extents"]["cropped_frames_prefix"]
    got[("generate_caption_ocr", 10)] = modal_app.generate_caption_ocr.local(prefix, 10, 30)
    ctx_id = id(worker_context())  # the container's context was built once, by the first call
    got[("generate_caption_ocr", 40)] = modal_app.generate_caption_ocr.local(prefix, 40, 65)
    assert id(worker_context()) == ctx_id
    assert got == reference_run["results"]  # the same as the jobs run in-process
    assert sorted(storage.list(TENANT)) == reference_run["keys"]
    # The batch function reads both captions as the one-caption calls read them.
    batch = modal_app.generate_caption_ocr_batch.local(prefix, [[10, 30], [40, 65]])
    assert [c["ocr_text"] for c in batch["captions"]] == \
        [got[("generate_caption_ocr", s)]["ocr_text"] for s in (10, 40)]
    out = modal_app.generate_caption_ocr_batch.local(prefix, [])
    assert set(out) == {modal_app.ERROR_KEY}  # bad input comes back, not retried


def test_bad_input_comes_back_as_the_same_exception_not_a_retry(modal_app, bucket):
    from gpu_kernels.errors import InvalidFrameRange, InvalidId

    out = modal_app.generate_caption_ocr.local("not/a/prefix/", 0, 10)
    assert set(out) == {modal_app.ERROR_KEY}  # returned, so Modal's retries=1 does not rerun it
    with pytest.raises(InvalidId):
        modal_app.unwrap(out)
    out = modal_app.generate_caption_ocr.local(f"{TENANT}/client/videos/{bucket[1]}/cropped_frames_v1/", 0, True)
    with pytest.raises(InvalidFrameRange):
        modal_app.unwrap(out)
    assert modal_app.unwrap({"ocr_text": "x"}) == {"ocr_text": "x"}


def test_dispatcher_modal_backend_through_a_standin_running_local(modal_app, bucket):
    """ModalBackend with a stand-in lookup whose ``.remote`` is the function's ``.local``."""
    from gpu_kernels.errors import InvalidId
    from workers.dispatcher import Dispatcher, ModalBackend

    calls = []

    class StandIn:  # modal.Function's shape; the call runs the function's body with .local
        def __init__(self, name):
            self.fn = getattr(modal_app, name)
            self.name = name

        def spawn(self, **kw):
            calls.append(self.name)
            fn = self.fn

            class Call:
                def get(self, timeout=None):
                    return fn.local(**kw)

            return Call()

    d = Dispatcher(modal=ModalBackend(lookup=StandIn))
    storage, video = bucket
    key = video_key(TENANT, video)
    ci = d.run("crop_and_infer_caption_frame_extents",
               dict(video_key=key, tenant_id=TENANT, video_id=video, crop_region=CROP), backend="modal")
    assert ci["version"] == 1 and calls == ["crop_and_infer_caption_frame_extents"]
    with pytest.raises(InvalidId):
        d.run("generate_caption_ocr", dict(chunks_prefix="x/", start_frame=0, end_frame=1), backend="modal")


def test_a_modal_call_that_does_not_finish_in_time_is_cancelled():
    """Modal's FunctionCall.get(timeout=) raises the builtin TimeoutError when no output came:
    a call queued behind max_containers, or a job past the flow's timeout. It is cancelled and
    reported as BackendTimeout (the flow's "Processing timeout"), never waited on forever."""
    from workers.dispatcher import JOBS, MODAL_QUEUE_GRACE_S, BackendTimeout, ModalBackend

    seen = []

    class Stuck:
        def __init__(self, name):
            self.name = name

        def spawn(self, **kw):
            outer = self

            class Call:
                def get(self, timeout=None):
                    seen.append(("get", outer.name, timeout))
                    raise TimeoutError()

                def cancel(self):
                    seen.append(("cancel", outer.name))

            return Call()

    backend = ModalBackend(lookup=Stuck)
    with pytest.raises(BackendTimeout, match="within 30 s"):
        backend.run("generate_caption_ocr", {"chunks_prefix": "x/", "start_frame": 0, "end_frame": 1}, timeout=30)
    assert seen == [("get", "generate_caption_ocr", 30), ("cancel", "generate_caption_ocr")]
    seen.clear()
    with pytest.raises(BackendTimeout):
        backend.run("extract_frames_and_ocr", {}, timeout=None)  # no flow timeout: the job's own, plus a queue grace
    assert seen[0] == ("get", "extract_frames_and_ocr", JOBS["extract_frames_and_ocr"].timeout + MODAL_QUEUE_GRACE_S)
