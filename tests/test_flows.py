"""Prefect 3 flows against a real Prefect server; status rows in SQLite and PostgreSQL.

PostgreSQL: a scratch database is created on ``CAPTIONACC_TEST_POSTGRES_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``) and dropped afterwards; the PostgreSQL
cases skip, saying why, when that server cannot be reached.
"""

from __future__ import annotations

import os
import uuid

import pytest

from tests.services.celery_workers import (  # noqa: F401 - fixtures
    TENANT, clip_path, release_results, start_workers, video_key, worker_env,
)
from tests.services.redis_server import redis_server  # noqa: F401 - fixture

PG_URL = os.environ.get("CAPTIONACC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def postgres_url():
    import sqlalchemy as sa

    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(sa.text("SELECT 1"))
    except Exception as e:  # noqa: BLE001
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} ({type(e).__name__}); set CAPTIONACC_TEST_POSTGRES_URL")
    name = f"captionacc_flows_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'videos.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module")
def bucket(tmp_path_factory, clip_path):
    """A local bucket for the flows' process (and its workers) with the test clip."""
    from tasks.storage import LocalStorage

    root = str(tmp_path_factory.mktemp("flows-store"))
    return root, LocalStorage(root), clip_path


@pytest.fixture
def env(bucket, monkeypatch):
    """The flows process: storage on the bucket, no Redis (the embedded, in-process dispatcher)."""
    from workers import celery_tasks, dispatcher

    monkeypatch.setenv("CAPTIONACC_STORAGE", "local")
    monkeypatch.setenv("CAPTIONACC_STORAGE_ROOT", bucket[0])
    monkeypatch.setenv("CAPTIONACC_DEVICE", "cpu")
    for k in ("CAPTIONACC_REDIS_URL", "CELERY_BROKER_URL", "CAPTIONACC_BACKEND"):
        monkeypatch.delenv(k, raising=False)
    celery_tasks.close_worker_context()
    dispatcher.reset_default_dispatcher()
    yield bucket
    dispatcher.reset_default_dispatcher()


def _new_video(storage, clip) -> tuple[str, str]:
    video = str(uuid.uuid4())
    storage.put_file(video_key(TENANT, video), clip)
    return video, video_key(TENANT, video)


# --- the videos table ------------------------------------------------------------------------


def test_videos_table_status_and_metadata(database_url):
    from workers.videos_db import VideoStore

    with VideoStore(database_url) as store:
        vid = str(uuid.uuid4())
        store.upsert(vid, TENANT, storage_key="k")
        assert store.get(vid)["status"] == "uploaded"
        store.set_status(vid, TENANT, "processing", stage="x", frame_count=3)
        store.set_status(vid, TENANT, "error", error="boom")
        row = store.get(vid)
        assert (row["status"], row["error"], row["frame_count"], row["storage_key"]) == ("error", "boom", 3, "k")
        with pytest.raises(ValueError):
            store.set_status(vid, TENANT, "done")
        with pytest.raises(ValueError):
            store.upsert(vid, TENANT, no_such_column=1)


# --- flows -----------------------------------------------------------------------------------


def test_single_step_flows_in_process(prefect_server, env, tmp_path):  # noqa: F811
    """The three single-step flows in order, on the embedded (in-process) dispatcher, SQLite."""
    from workers.flows import caption_ocr, crop_and_infer, suggested_crop, video_initial_processing
    from workers.videos_db import VideoStore

    url = f"sqlite:///{tmp_path / 'v.db'}"
    _root, storage, clip = env
    video, key = _new_video(storage, clip)
    ex = video_initial_processing(video, TENANT, key, frame_rate=1.0, database_url=url)
    with VideoStore(url) as store:
        row = store.get(video)
    assert (row["status"], row["frame_count"], row["storage_key"]) == ("active", ex["frame_count"], key)
    region = suggested_crop(ex["layout_db_key"])
    ci = crop_and_infer(video, TENANT, key, region, database_url=url)
    caps = caption_ocr(video, TENANT, ci["cropped_frames_prefix"], duration=ex["duration"], database_url=url)
    assert [c["text"] for c in caps] == ["你好世界", "第二句字幕"]
    with VideoStore(url) as store:
        row = store.get(video)
    assert (row["status"], row["stage"], row["caption_count"], row["cropped_frames_version"]) == \
        ("active", "caption-ocr", 2, 1)
    assert row["crop_top"] == region["crop_top"]
    srt = storage.get_bytes(f"{TENANT}/client/videos/{video}/captions.srt").decode()
    assert "你好世界" in srt and "第二句字幕" in srt


def test_job_failure_sets_error_with_the_job_error_text(prefect_server, env, database_url):  # noqa: F811
    from gpu_kernels.errors import MissingObject
    from workers.flows import process_video
    from workers.videos_db import VideoStore

    video = str(uuid.uuid4())  # never uploaded
    with pytest.raises(MissingObject) as err:
        process_video(video, TENANT, video_key(TENANT, video), database_url=database_url)
    with VideoStore(database_url) as store:
        row = store.get(video)
    assert row["status"] == "error" and row["error"] == str(err.value)
    assert "no object at" in row["error"]


def test_backend_timeout_sets_processing_timeout(prefect_server, env, redis_server, database_url):  # noqa: F811
    """Celery with nobody consuming the queue: the GPU call times out in the flow."""
    from workers import dispatcher as dmod
    from workers.celery_app import make_app
    from workers.flows import video_initial_processing
    from workers.videos_db import VideoStore

    redis_server.client(3).flushdb()
    os.environ["CAPTIONACC_REDIS_URL"] = os.environ["CELERY_RESULT_BACKEND"] = redis_server.url(3)
    try:
        app = make_app()
        app.conf.broker_url
    finally:
        os.environ.pop("CAPTIONACC_REDIS_URL")
        os.environ.pop("CELERY_RESULT_BACKEND")
    dmod.set_default_dispatcher(dmod.Dispatcher(redis=redis_server.client(3), celery_app=app))
    _root, storage, clip = env
    video, key = _new_video(storage, clip)
    try:
        with pytest.raises(dmod.BackendTimeout):
            video_initial_processing(video, TENANT, key, backend="celery", timeout_s=1.0,
                                     database_url=database_url)
    finally:
        dmod.reset_default_dispatcher()
        release_results(app)
    with VideoStore(database_url) as store:
        row = store.get(video)
    assert (row["status"], row["error"]) == ("error", "Processing timeout")


@pytest.fixture
def postgres_or_sqlite_url(request, tmp_path):
    """PostgreSQL when reachable; otherwise SQLite, so the flow itself still runs everywhere."""
    try:
        return request.getfixturevalue("postgres_url")
    except pytest.skip.Exception as e:
        import warnings

        warnings.warn(f"status row in SQLite instead of PostgreSQL: {e}")
        return f"sqlite:///{tmp_path / 'videos.db'}"


def test_whole_video_flow_through_dispatcher_on_a_real_celery_worker(
        prefect_server, env, redis_server, postgres_or_sqlite_url):  # noqa: F811
    """Redis configured, Modal disabled, one A10G-class node (it consumes both queues) online:
    the dispatcher's own choice is Celery for every GPU call; the status row is in PostgreSQL
    (SQLite, with a warning, where no PostgreSQL server is reachable)."""
    postgres_url = postgres_or_sqlite_url
    from workers import dispatcher as dmod
    from workers.celery_app import make_app
    from workers.flows import process_video
    from workers.videos_db import VideoStore

    root, storage, clip = env
    redis_server.client(2).flushdb()
    wenv = worker_env(redis_server.url(2), dict(CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=root),
                      CAPTIONACC_WARM_MODELS="")
    (worker,) = start_workers([("a10g", wenv, {"name": "a10g-flows@test", "console_script": True})])
    app = None
    try:
        os.environ["CAPTIONACC_REDIS_URL"] = os.environ["CELERY_RESULT_BACKEND"] = redis_server.url(2)
        try:
            app = make_app()
            app.conf.broker_url
        finally:
            os.environ.pop("CAPTIONACC_REDIS_URL")
            os.environ.pop("CELERY_RESULT_BACKEND")
        d = dmod.Dispatcher(redis=redis_server.client(2), celery_app=app, observe_ttl=0)
        dmod.set_default_dispatcher(d)
        video, key = _new_video(storage, clip)
        out = process_video(video, TENANT, key, frame_rate=1.0, database_url=postgres_url)
        assert [c["text"] for c in out["captions"]] == ["你好世界", "第二句字幕"]
        decisions = d.recent_decisions(10)
        # extract, crop-infer, and the two captions in one batch job
        assert sorted(x["job"] for x in decisions) == ["crop_and_infer_caption_frame_extents",
                                                        "extract_frames_and_ocr", "generate_caption_ocr_batch"]
        assert {x["backend"] for x in decisions} == {"celery"}
        assert all(x["state"]["workers"] == [worker.name] for x in decisions)
        with VideoStore(postgres_url) as store:
            row = store.get(video)
        assert (row["status"], row["caption_count"]) == ("active", 2)
    finally:
        dmod.reset_default_dispatcher()
        if app is not None:
            release_results(app)
        worker.stop()


def test_caption_ocr_is_batched_and_the_fan_out_bounded(prefect_server, env, tmp_path, monkeypatch):  # noqa: F811
    """60 captions in batches of 2 (30 jobs), each slow: no more than FAN_OUT_THREADS jobs run at
    once (Prefect's default pool would start a thread each), every caption comes back in order,
    and each batch is told the captions beside it (within NEAR_FRAMES) but not its own."""
    import threading
    import time

    from workers import flows
    from workers.dispatcher import Decision

    running, peak, lock, calls = [0], [0], threading.Lock(), []

    class Recording:
        def dispatch(self, job, kwargs, **_kw):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
                calls.append((job, kwargs))
            time.sleep(0.05)
            with lock:
                running[0] -= 1
            caps = [{"ocr_text": f"caption {s}", "confidence": 0.99, "frame_count": 10} for s, _ in kwargs["ranges"]]
            return ({"captions": caps}, Decision(job, "local", "forced", "test", "none", 0.0, "normal"))

    monkeypatch.setattr(flows, "default_dispatcher", lambda: Recording())
    monkeypatch.setattr(flows, "CAPTIONS_PER_BATCH", 2)
    video = str(uuid.uuid4())
    prefix = f"{TENANT}/client/videos/{video}/cropped_frames_v1"
    captions = [[k * 20, k * 20 + 15] for k in range(60)]
    out = flows.caption_ocr(video, TENANT, prefix, captions=captions, duration=130.0,
                            database_url=f"sqlite:///{tmp_path / 'v.db'}")
    assert [c["text"] for c in out] == [f"caption {k * 20}" for k in range(60)]
    assert 1 < peak[0] <= flows.FAN_OUT_THREADS
    assert {job for job, _ in calls} == {"generate_caption_ocr_batch"} and len(calls) == 30
    first = next(kw for _, kw in calls if kw["ranges"][0] == [0, 15])
    assert first["ranges"] == [[0, 15], [20, 35]]
    # Captions within NEAR_FRAMES after the batch's end (35).
    assert first["known"] == [[k * 20, k * 20 + 15] for k in range(2, 60) if k * 20 < 35 + flows.NEAR_FRAMES]
    # ... which covers every frame a caption-free reference (near, then far) can be taken from.
    from tasks import caption_ocr as co

    reach = 2 * co.REFERENCE_REACH + co.FAR_OFFSET + co.REFERENCE_FRAMES + 2 * co.BOUNDARY_SLACK
    assert flows.NEAR_FRAMES >= reach
