"""Dispatcher decisions against real state: a real Redis (queue lists, durations, budget), a real
Celery app and ``celery inspect`` answered by a real T4 worker subprocess.

Modal cannot be reached from here: where a decision sends a job to Modal, the call goes to a
stand-in that records it and runs the job in-process (the tests say so in their names).
"""

from __future__ import annotations

import os
import time
import uuid

import pytest

from tests.services.celery_workers import (  # noqa: F401 - fixtures
    TENANT, clip_path, reference_run, release_results, start_workers, video_key, worker_env,
)
from tests.services.redis_server import redis_server  # noqa: F401 - fixture

DB = 1  # this module's Redis database


class RecordingModalStandIn:
    """Stands in for ``modal.Function.from_name``: records each ``.spawn`` call and runs the
    job in-process on the given context."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, job: str):
        from workers.celery_tasks import call_job

        standin = self

        class _Call:  # modal.FunctionCall's shape: the job runs when its result is asked for
            def __init__(self, kwargs):
                self.kwargs = kwargs

            def get(self, timeout=None):
                return call_job(job, self.kwargs, standin.ctx)

            def cancel(self):
                raise AssertionError("a call that finished is never cancelled")

        class _Fn:
            def spawn(self, **kwargs):
                standin.calls.append((job, kwargs))
                return _Call(kwargs)

        return _Fn()


@pytest.fixture(scope="module")
def prepared(reference_run, clip_path):
    """The reference bucket (the test clip and its cropped chunks), a context on it, and a
    second copy of the clip for the long job that keeps the worker busy."""
    from tasks.context import JobContext
    from tasks.storage import LocalStorage

    root = reference_run["root"]
    ctx = JobContext(storage=LocalStorage(root), device_name="cpu")
    video = str(uuid.uuid4())
    ctx.storage.put_file(video_key(TENANT, video), clip_path)
    ocr_kwargs = dict(chunks_prefix=reference_run["prefix"], start_frame=10, end_frame=30)
    yield dict(root=root, ctx=ctx, video=video, ocr_kwargs=ocr_kwargs,
               expected=reference_run["results"][("generate_caption_ocr", 10)])
    ctx.close()


@pytest.fixture(scope="module")
def celery_app(redis_server):  # noqa: F811
    from workers.celery_app import make_app

    url = redis_server.url(DB)
    old = {k: os.environ.get(k) for k in ("CAPTIONACC_REDIS_URL", "CELERY_RESULT_BACKEND")}
    os.environ["CAPTIONACC_REDIS_URL"] = os.environ["CELERY_RESULT_BACKEND"] = url
    app = make_app()
    app.conf.broker_url  # read the configuration now, while the env points at this Redis
    yield app
    release_results(app)
    for k, v in old.items():
        os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


@pytest.fixture
def rdb(redis_server, celery_app):  # noqa: F811
    r = redis_server.client(DB)
    r.flushdb()
    yield r


def _dispatcher(rdb, celery_app, prepared, **kw):
    from workers.dispatcher import Dispatcher, LocalBackend, ModalBackend, Prices

    standin = RecordingModalStandIn(prepared["ctx"])
    prices = kw.pop("prices", Prices(modal_daily_budget_usd=1.0))
    d = Dispatcher(redis=rdb, celery_app=celery_app, modal=ModalBackend(lookup=standin),
                   local=LocalBackend(prepared["ctx"]), prices=prices, observe_ttl=0, **kw)
    return d, standin


# --- no worker process needed ------------------------------------------------------------------


def test_embedded_default_runs_in_process(prepared):
    from workers.dispatcher import Dispatcher, LocalBackend

    d = Dispatcher(local=LocalBackend(prepared["ctx"]))
    result, decision = d.dispatch("generate_caption_ocr", prepared["ocr_kwargs"])
    assert (decision.backend, decision.reason) == ("local", "embedded")
    assert result == prepared["expected"]


def test_forced_backend_and_bad_arguments(rdb, celery_app, prepared):
    from gpu_kernels.errors import BadInput
    from workers.dispatcher import BackendUnavailable, Dispatcher

    d, standin = _dispatcher(rdb, celery_app, prepared)
    assert d.decide("generate_caption_ocr", backend="local").reason == "forced"
    result, decision = d.dispatch("generate_caption_ocr", prepared["ocr_kwargs"], backend="modal")
    assert decision.backend == "modal" and standin.calls[-1] == ("generate_caption_ocr", prepared["ocr_kwargs"])
    assert result == prepared["expected"]
    with pytest.raises(BackendUnavailable):
        Dispatcher().decide("generate_caption_ocr", backend="celery")
    with pytest.raises(BadInput):
        d.decide("no_such_job")
    with pytest.raises(ValueError):
        d.decide("generate_caption_ocr", priority="urgent")


def test_no_worker_online_goes_to_modal_standin_that_records_the_call(rdb, celery_app, prepared):
    d, standin = _dispatcher(rdb, celery_app, prepared)
    result, decision = d.dispatch("generate_caption_ocr", prepared["ocr_kwargs"])
    assert (decision.backend, decision.reason) == ("modal", "no_workers"), decision.detail
    assert decision.state.workers == []
    assert standin.calls == [("generate_caption_ocr", prepared["ocr_kwargs"])]
    assert result == prepared["expected"]
    assert d.modal_spent_today() > 0  # the call's cost is charged to today's budget
    assert d.avg_duration("generate_caption_ocr", "modal") is not None


def test_no_worker_and_budget_spent_queues_on_celery(rdb, celery_app, prepared):
    d, standin = _dispatcher(rdb, celery_app, prepared)
    d._charge_modal(1.0)  # the whole daily budget
    decision = d.decide("extract_frames_and_ocr")
    assert (decision.backend, decision.reason) == ("celery", "no_workers_no_modal")
    assert "budget spent" in decision.detail


def test_moving_average_budget_and_metrics_live_in_redis(rdb, celery_app, prepared):
    from workers.dispatcher import record_duration

    d, _ = _dispatcher(rdb, celery_app, prepared)
    for s in (10, 20, 30):
        record_duration(rdb, "generate_caption_ocr", "celery", s)
    for s in range(30):  # only the last 20 count
        record_duration(rdb, "extract_frames_and_ocr", "celery", s)
    assert d.avg_duration("generate_caption_ocr", "celery") == 20
    assert d.avg_duration("extract_frames_and_ocr", "celery") == sum(range(10, 30)) / 20
    d._charge_modal(0.25)
    d._charge_modal(0.5)
    assert d.modal_spent_today() == pytest.approx(0.75)
    d.decide("generate_caption_ocr", backend="local")
    text = d.prometheus_text()
    assert 'captionacc_dispatch_decisions_total{job="generate_caption_ocr",backend="local",reason="forced"} 1' in text
    assert 'captionacc_job_duration_seconds{job="generate_caption_ocr",backend="celery"} 20.000' in text
    assert "captionacc_modal_spend_usd 0.750000" in text
    assert d.recent_decisions(1)[0]["reason"] == "forced"


# --- with a real T4 worker -------------------------------------------------------------------


@pytest.fixture(scope="module")
def t4_worker(redis_server, celery_app, prepared):  # noqa: F811
    env = worker_env(redis_server.url(DB), dict(CAPTIONACC_STORAGE="local", CAPTIONACC_STORAGE_ROOT=prepared["root"]),
                     CAPTIONACC_WARM_MODELS="ocr")
    (w,) = start_workers([("t4", env, {"name": "t4-dispatch@test"})])
    yield w
    w.stop()


def test_idle_worker_is_cheapest_so_celery_runs_it(rdb, celery_app, prepared, t4_worker):
    d, standin = _dispatcher(rdb, celery_app, prepared)
    result, decision = d.dispatch("generate_caption_ocr", prepared["ocr_kwargs"])
    assert (decision.backend, decision.reason) == ("celery", "cheapest"), decision.detail
    assert decision.state.workers == [t4_worker.name]
    assert decision.estimates["celery"].cost_usd < decision.estimates["modal"].cost_usd
    assert result == prepared["expected"] and standin.calls == []
    # the worker recorded the run time for the moving average
    deadline = time.monotonic() + 5
    while d.avg_duration("generate_caption_ocr", "celery") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert d.avg_duration("generate_caption_ocr", "celery") > 0


def test_a_burst_spills_over_to_modal_once_the_backlog_misses_the_deadline(rdb, celery_app, prepared, t4_worker):
    """Decisions within one observation count the jobs already sent to Celery."""
    from workers.dispatcher import record_duration

    d, _ = _dispatcher(rdb, celery_app, prepared)
    d.observe_ttl = 60
    record_duration(rdb, "generate_caption_ocr", "celery", 100.0)  # 100 s a job, deadline 300 s
    picks = [d.decide("generate_caption_ocr").backend for _ in range(5)]
    assert picks == ["celery", "celery", "celery", "modal", "modal"]


def test_deep_queue_goes_to_modal_standin_that_records_the_call_then_budget_back_to_celery(
        rdb, celery_app, prepared, t4_worker):
    from workers.celery_app import JOBS
    from workers.dispatcher import record_duration

    d, standin = _dispatcher(rdb, celery_app, prepared)
    for _ in range(3):
        record_duration(rdb, "generate_caption_ocr", "celery", 30.0)  # history: 30 s per job
    # Occupy the only worker with a long extract, then queue 25 caption jobs behind it.
    video = prepared["video"]
    busy = celery_app.send_task(JOBS["extract_frames_and_ocr"].task_name, kwargs=dict(
        video_key=video_key(TENANT, video), tenant_id=TENANT, video_id=video, frame_rate=10.0))
    deadline = time.monotonic() + 60
    while busy.state != "STARTED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    for _ in range(25):
        celery_app.send_task(JOBS["generate_caption_ocr"].task_name, kwargs=prepared["ocr_kwargs"])
    try:
        result, decision = d.dispatch("generate_caption_ocr", prepared["ocr_kwargs"])
        assert decision.backend == "modal", decision.detail
        assert decision.state.waiting >= 20 and decision.state.active == 1, decision.state
        assert decision.estimates["celery"].finish_s > decision.deadline_s >= decision.estimates["modal"].finish_s
        assert standin.calls == [("generate_caption_ocr", prepared["ocr_kwargs"])]
        assert result == prepared["expected"]

        # an A10G job with no A10G node online (the T4 node does not consume gpu-a10g)
        ci = d.decide("crop_and_infer_caption_frame_extents")
        assert (ci.backend, ci.reason) == ("modal", "no_workers")

        # the day's Modal budget spent: back to Celery, deep queue or not
        d._charge_modal(d.prices.modal_daily_budget_usd)
        decision = d.decide("generate_caption_ocr")
        # (No figure on the queue's depth here: on a fast box the long extract may be done and
        # the worker well into the caption jobs by now; the budget decides whatever the depth.)
        assert (decision.backend, decision.reason) == ("celery", "budget_spent"), decision.detail

        logged = d.recent_decisions(3)
        assert [x["reason"] for x in logged[:2]] == ["budget_spent", "no_workers"]
        assert logged[2]["backend"] == "modal"
        assert all(x["estimates"] for x in logged)
        assert 'reason="budget_spent"' in d.prometheus_text()
    finally:
        rdb.delete("gpu-t4")  # drop the queued caption jobs
        busy.revoke(terminate=True, signal="SIGKILL")  # and the long one: it has done its part


def test_modal_is_a_backend_only_with_modal_credentials(redis_server, tmp_path, monkeypatch):  # noqa: F811
    """With no Modal account, a job sent to Modal fails with 'Token missing': from_env leaves
    Modal out unless a token pair or a Modal config file is there."""
    from workers.dispatcher import Dispatcher, modal_credentials

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CAPTIONACC_REDIS_URL", redis_server.url(DB))
    monkeypatch.setenv("CAPTIONACC_MODAL_ENABLED", "1")
    monkeypatch.setenv("MODAL_CONFIG_PATH", str(tmp_path / "none.toml"))
    for name in ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert not modal_credentials() and "modal" not in Dispatcher.from_env().backends
    monkeypatch.setenv("MODAL_TOKEN_ID", "ak-test")
    monkeypatch.setenv("MODAL_TOKEN_SECRET", "as-test")
    assert modal_credentials() and "modal" in Dispatcher.from_env().backends
    monkeypatch.setenv("CAPTIONACC_MODAL_ENABLED", "0")
    assert "modal" not in Dispatcher.from_env().backends


# --- the policy on its own, dry decisions, the operator's commands --------------------------


def test_the_policy_is_a_pure_function_of_what_was_observed():
    from workers.dispatch_policy import choose
    from workers.dispatcher import Estimate

    celery = Estimate("celery", wait_s=100.0, run_s=30.0, cost_usd=0.001)
    modal = Estimate("modal", wait_s=0.0, run_s=50.0, cost_usd=0.01)
    both = {"celery": celery, "modal": modal}
    assert choose("gpu-t4", 0, 0, both, 0.0, 1.0, 300).reason == "no_workers"
    spent = choose("gpu-t4", 0, 0, both, 0.995, 1.0, 300)  # no worker and no budget: wait for one
    assert (spent.backend, spent.reason) == ("celery", "no_workers_no_modal")
    assert choose("gpu-t4", 3, 1, {"celery": celery}, 0.0, 1.0, 300).reason == "modal_disabled"
    assert choose("gpu-t4", 3, 1, both, 0.995, 1.0, 300).reason == "budget_spent"
    cheap = choose("gpu-t4", 3, 1, both, 0.0, 1.0, 300)  # both meet 300 s: the cheaper, Celery
    assert (cheap.backend, cheap.reason) == ("celery", "cheapest")
    rush = choose("gpu-t4", 3, 1, both, 0.0, 1.0, 60)  # only Modal meets 60 s
    assert (rush.backend, rush.reason) == ("modal", "cheapest")
    late = choose("gpu-t4", 3, 1, both, 0.0, 1.0, 10)  # none meets 10 s: the fastest
    assert (late.backend, late.reason) == ("modal", "fastest")
    assert choose("gpu-t4", 3, 1, both, 0.0, 1.0, 60) == rush  # same inputs, same decision


def test_explain_takes_no_decision(rdb, celery_app, prepared):
    """Nine dry decisions: nothing logged or counted, no phantom job in the backlog; then one
    real decision counts once."""
    d, _ = _dispatcher(rdb, celery_app, prepared)
    d.observe_ttl = 600  # one observation for all: a dry decision that queued would show in it
    before = d.observe(refresh=True)["gpu-t4"].waiting
    seen = {(x.backend, x.reason) for x in (d.explain("generate_caption_ocr") for _ in range(9))}
    assert len(seen) == 1  # the same answer each time: no earlier explanation shifted it
    assert d.recent_decisions() == [] and not rdb.hgetall("captionacc:dispatch:decisions")
    assert d.observe()["gpu-t4"].waiting == before
    d.decide("generate_caption_ocr")
    assert len(d.recent_decisions()) == 1


def test_metrics_are_served_over_http(rdb, celery_app, prepared):
    import threading
    import urllib.error
    import urllib.request

    from workers.dispatcher_cli import metrics_server

    d, _ = _dispatcher(rdb, celery_app, prepared)
    x = d.decide("extract_frames_and_ocr")
    server = metrics_server(d, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as r:
            body = r.read().decode()
            assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert (f'captionacc_dispatch_decisions_total{{job="extract_frames_and_ocr",backend="{x.backend}",'
                f'reason="{x.reason}"}} 1') in body
        assert "captionacc_modal_budget_usd 1.00" in body
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"{base}/", timeout=10)
        assert e.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_dispatcher_status_and_explain_commands(rdb, celery_app, redis_server, t4_worker):  # noqa: F811
    import subprocess
    import sys

    exe = os.path.join(os.path.dirname(sys.executable), "captionacc")
    env = dict(os.environ, CAPTIONACC_REDIS_URL=redis_server.url(DB), CAPTIONACC_MODAL_ENABLED="0")
    # An earlier test's long job, killed on its way out, is redelivered (acks late): wait for the
    # node to be idle again rather than read its leftovers as this test's state.
    idle = f"gpu-t4: 0 waiting, 0 reserved, 0 running; {t4_worker.name}"
    deadline = time.monotonic() + 120
    while True:
        rdb.delete("gpu-t4")
        status = subprocess.run([exe, "dispatcher", "status"], env=env, capture_output=True, text=True, timeout=120)
        assert status.returncode == 0, status.stderr
        if idle in status.stdout or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert idle in status.stdout, status.stdout
    assert "gpu-a10g: 0 waiting, 0 reserved, 0 running; no worker online" in status.stdout
    assert "modal: not configured" in status.stdout
    explain = subprocess.run([exe, "dispatcher", "explain", "caption-ocr"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert explain.returncode == 0, explain.stderr
    assert explain.stdout.startswith("generate_caption_ocr -> celery (modal_disabled)"), explain.stdout
    assert not rdb.hgetall("captionacc:dispatch:decisions")  # explaining decided nothing
    down = subprocess.run([exe, "dispatcher", "status"], env=dict(env, CAPTIONACC_REDIS_URL="redis://127.0.0.1:1/0"),
                          capture_output=True, text=True, timeout=60)
    assert down.returncode == 3 and down.stderr.strip().splitlines()[-1].startswith("error: Redis at 127.0.0.1:1 is unreachable")
