"""Where a job runs: self-hosted Celery GPU workers, Modal, or in-process.

The dispatcher observes, for the job's GPU queue, the waiting + reserved + active tasks (the
Redis list and ``celery inspect``) and the workers online; it keeps a moving average of job
durations and the day's Modal spend in Redis. For each job it estimates, per backend, when the job
would finish and what it would cost, and picks the cheapest backend that meets the job's deadline
(or the fastest when none does). Overrides: no Celery worker online for the queue → Modal; the
daily Modal budget spent → Celery; ``backend=`` forces one. Every decision is logged with its
reason and estimates, appended to a capped Redis list and counted in a Redis hash, which
:meth:`Dispatcher.prometheus_text` renders in the Prometheus text format.

A job's deadline is ``deadline_s`` when given, else set by its priority: ``high`` a quarter of
the job's seed timeout, ``normal`` the timeout, ``low`` eight times it. Celery's finish estimate
is (waiting + reserved + active on the queue) × the queue's mean job time ÷ workers online, plus
the job's own mean time; Modal's is the cold start plus the job's mean time (or Modal's own
measured wall time). Costs: Modal's price per GPU-second × that time; self-hosted, the marginal
cost per GPU-second. Queue observations are cached for ``observe_ttl`` seconds; jobs sent to
Celery meanwhile are added to the cached backlog, so a burst spills over to Modal.

Without Redis (nothing configured) the dispatcher is the embedded default: every job runs
in-process (``local``).

Configuration (environment; defaults in brackets):
  CAPTIONACC_REDIS_URL / CELERY_BROKER_URL       Redis; unset → embedded, in-process
  CAPTIONACC_BACKEND                             auto | celery | modal | local  [auto]
  CAPTIONACC_MODAL_APP                           deployed Modal app [captionacc-processing]
  CAPTIONACC_MODAL_ENABLED                       0 disables the Modal backend [1]
  CAPTIONACC_MODAL_USD_PER_HOUR_T4 / _A10G        [0.59 / 1.10]
  CAPTIONACC_MODAL_COLD_START_S                  [20]
  CAPTIONACC_SELF_HOSTED_USD_PER_HOUR_T4 / _A10G  marginal cost of an own GPU-hour [0.10 / 0.20]
  CAPTIONACC_MODAL_DAILY_BUDGET_USD              [20]
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

from .celery_app import JOBS, JobSpec, broker_url, configured_broker_url, env_setting, send_job
from .dispatch_policy import Prices, choose
from .dispatch_stats import KEY, record_duration, today

log = logging.getLogger(__name__)

BACKENDS = ("celery", "modal", "local")
# A job's deadline when the caller gives none: a fraction of its seed timeout.
PRIORITY_DEADLINE = {"high": 0.25, "normal": 1.0, "low": 8.0}


class BackendTimeout(Exception):
    """The backend gave up on the job (time limit, or no result in time)."""


class BackendUnavailable(Exception):
    """The chosen backend cannot take jobs here (no Redis, Modal disabled, ...)."""


# ---------------------------------------------------------------------------------------------
# Prices, state, estimates, decisions


@dataclass
class QueueState:
    queue: str
    waiting: int = 0  # messages in the Redis list
    reserved: int = 0  # prefetched by a worker, not started
    active: int = 0  # running
    workers: list = field(default_factory=list)  # worker nodes consuming this queue

    @property
    def depth(self) -> int:
        return self.waiting + self.reserved + self.active


@dataclass
class Estimate:
    backend: str
    wait_s: float  # until the job starts
    run_s: float  # how long it runs
    cost_usd: float

    @property
    def finish_s(self) -> float:
        return self.wait_s + self.run_s

    def to_dict(self) -> dict:
        d = asdict(self)
        d["finish_s"] = self.finish_s
        return {k: (round(v, 6) if isinstance(v, float) and math.isfinite(v) else
                    (None if isinstance(v, float) else v)) for k, v in d.items()}


@dataclass
class Decision:
    job: str
    backend: str
    reason: str  # a code: forced | embedded | no_workers | budget_spent | cheapest | fastest | ...
    detail: str  # the reason in words, with the numbers
    queue: str
    deadline_s: float
    priority: str
    state: QueueState | None = None
    estimates: dict = field(default_factory=dict)  # backend -> Estimate
    modal_spent_usd: float = 0.0
    modal_budget_usd: float = 0.0
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict:
        return {
            "job": self.job, "backend": self.backend, "reason": self.reason, "detail": self.detail,
            "queue": self.queue, "deadline_s": self.deadline_s, "priority": self.priority,
            "state": None if self.state is None else {**asdict(self.state), "depth": self.state.depth},
            "estimates": {k: e.to_dict() for k, e in self.estimates.items()},
            "modal_spent_usd": round(self.modal_spent_usd, 6),
            "modal_budget_usd": self.modal_budget_usd, "at": self.at,
        }


# ---------------------------------------------------------------------------------------------
# Backends: run(job, kwargs, timeout) -> dict


class LocalBackend:
    """In-process, on this process's shared JobContext, one job at a time (one device).
    A timeout stops the caller waiting; the job itself runs on to its end in its thread."""

    name = "local"

    def __init__(self, ctx=None) -> None:
        self.ctx = ctx
        self._one_at_a_time = threading.Lock()

    def run(self, job: str, kwargs: dict, timeout: float | None) -> dict:
        from .celery_tasks import call_job

        box: dict = {}

        def target() -> None:
            try:
                with self._one_at_a_time:
                    box["result"] = call_job(job, kwargs, self.ctx)
            except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                box["error"] = e

        t = threading.Thread(target=target, name=f"captionacc-local-{job}", daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            raise BackendTimeout(f"{job} ran longer than {timeout:.0f}s in-process")
        if "error" in box:
            raise box["error"]
        return box["result"]


class CeleryBackend:
    name = "celery"

    def __init__(self, app) -> None:
        self.app = app

    def run(self, job: str, kwargs: dict, timeout: float | None) -> dict:
        from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
        from celery.exceptions import TimeoutError as ResultTimeout

        import gpu_kernels.errors  # noqa: F401 - lets Celery rebuild our exception types

        spec = JOBS[job]
        res = send_job(self.app, job, kwargs)
        try:
            return res.get(timeout=timeout, disable_sync_subtasks=False)
        except ResultTimeout as e:
            res.revoke()  # if it has not started yet, it never will
            raise BackendTimeout(f"{job} (task {res.id}) gave no result within {timeout:.0f}s") from e
        except (SoftTimeLimitExceeded, TimeLimitExceeded) as e:
            raise BackendTimeout(f"{job} (task {res.id}) hit its {spec.timeout}s time limit") from e


# How long a Modal call may wait for a container beyond the job's own time limit.
MODAL_QUEUE_GRACE_S = 600.0


class ModalBackend:
    """Calls the deployed Modal app. ``lookup(function_name)`` returns an object with
    ``.spawn(**kwargs)`` → a call with ``.get(timeout=)`` and ``.cancel()``; the default is
    ``modal.Function.from_name(app_name, name)``."""

    name = "modal"

    def __init__(self, app_name: str | None = None, lookup: Callable[[str], Any] | None = None) -> None:
        self.app_name = app_name or os.environ.get("CAPTIONACC_MODAL_APP", "captionacc-processing")
        self._lookup = lookup
        self._functions: dict[str, Any] = {}

    def function(self, job: str):
        if job not in self._functions:
            if self._lookup is not None:
                self._functions[job] = self._lookup(job)
            else:
                import modal

                self._functions[job] = modal.Function.from_name(self.app_name, job)
        return self._functions[job]

    def run(self, job: str, kwargs: dict, timeout: float | None) -> dict:
        """Spawn the call and wait at most ``timeout`` (default: the job's own limit plus
        MODAL_QUEUE_GRACE_S for a place behind ``max_containers``); past it the call is
        cancelled and BackendTimeout raised. ``.remote()`` would wait forever."""
        timeouts: tuple = (TimeoutError,)  # FunctionCall.get(timeout=) raises the builtin
        try:
            import modal.exception as mexc

            timeouts += (mexc.TimeoutError,)  # FunctionTimeoutError: the job's own limit hit
        except ImportError:  # pragma: no cover
            pass
        wait = timeout if timeout is not None else JOBS[job].timeout + MODAL_QUEUE_GRACE_S
        call = self.function(job).spawn(**kwargs)
        try:
            out = call.get(timeout=wait)
        except timeouts as e:
            try:
                call.cancel()
            except Exception:  # noqa: BLE001 - the timeout is the error to report
                log.warning("could not cancel the Modal call of %s", job, exc_info=True)
            raise BackendTimeout(f"{job} did not finish on Modal within {wait:g} s (call cancelled)") from e
        from .job_envelope import unwrap

        return unwrap(out)


# ---------------------------------------------------------------------------------------------
# The dispatcher


def modal_credentials() -> bool:
    """Whether Modal's client can authenticate here: a token pair in the environment (or
    ``.env``), or a Modal config file (``modal token new`` writes ``~/.modal.toml``)."""
    if env_setting("MODAL_TOKEN_ID") and env_setting("MODAL_TOKEN_SECRET"):
        return True
    path = os.environ.get("MODAL_CONFIG_PATH") or os.path.expanduser("~/.modal.toml")
    try:
        with open(path, encoding="utf-8") as f:
            return "token_id" in f.read()
    except OSError:
        return False


class Dispatcher:
    def __init__(
        self,
        redis=None,
        celery_app=None,
        modal: ModalBackend | None = None,
        local: LocalBackend | None = None,
        prices: Prices | None = None,
        default_backend: str = "auto",
        inspect_timeout: float = 1.0,
        observe_ttl: float = 2.0,
    ) -> None:
        self.redis = redis
        self.celery_app = celery_app
        self.prices = prices or Prices()
        self.default_backend = default_backend
        self.inspect_timeout = inspect_timeout
        self.observe_ttl = observe_ttl
        self.backends: dict[str, Any] = {"local": local or LocalBackend()}
        if celery_app is not None:
            self.backends["celery"] = CeleryBackend(celery_app)
        if modal is not None:
            self.backends["modal"] = modal
        self._observed: tuple[float, dict[str, QueueState]] | None = None
        self._lock = threading.RLock()

    @classmethod
    def from_env(cls, **overrides) -> "Dispatcher":
        """From the environment (else ``.env``). Modal is a backend only when it is enabled and
        this process has Modal credentials."""
        url = configured_broker_url()
        kw: dict[str, Any] = dict(prices=Prices.from_env(),
                                  default_backend=os.environ.get("CAPTIONACC_BACKEND", "auto").lower())
        if url:
            import redis as redis_lib

            from .celery_app import app

            kw.update(redis=redis_lib.Redis.from_url(url), celery_app=app)
            if (env_setting("CAPTIONACC_MODAL_ENABLED") or "1").lower() not in ("0", "false", "no"):
                if modal_credentials():
                    kw["modal"] = ModalBackend()
                else:  # a job sent there would only fail with "Token missing"
                    log.warning("Modal backend off: no Modal credentials (MODAL_TOKEN_ID and "
                                "MODAL_TOKEN_SECRET, or ~/.modal.toml); jobs go to Celery workers")
        kw.update(overrides)
        return cls(**kw)

    # --- observation -----------------------------------------------------------------------

    def _waiting(self, queue: str) -> int:
        # kombu's Redis transport keeps a list per queue, plus one per priority step.
        sep = "\x06\x16"
        names = [queue] + [f"{queue}{sep}{p}" for p in (1, 2, 3, 4, 5, 6, 7, 8, 9)]
        pipe = self.redis.pipeline()
        for n in names:
            pipe.llen(n)
        return int(sum(pipe.execute()))

    def observe(self, refresh: bool = False) -> dict[str, QueueState]:
        """QueueState of every GPU queue; cached for ``observe_ttl`` seconds, and observed by one
        thread at a time (a fan-out of many jobs shares one round of ``inspect``)."""
        with self._lock:
            if not refresh and self._observed and time.monotonic() - self._observed[0] < self.observe_ttl:
                return self._observed[1]
            states = self._observe()
            self._observed = (time.monotonic(), states)
            return states

    def _observe(self) -> dict[str, QueueState]:
        queues = sorted({j.queue for j in JOBS.values()})
        states = {q: QueueState(q, waiting=self._waiting(q)) for q in queues}
        insp = self.celery_app.control.inspect(timeout=self.inspect_timeout)
        consuming = insp.active_queues() or {}
        for worker, qs in consuming.items():
            for q in qs or []:
                if q.get("name") in states:
                    states[q["name"]].workers.append(worker)
        if consuming:
            # Every worker that answered once answers again: stop waiting at that many replies.
            insp = self.celery_app.control.inspect(timeout=self.inspect_timeout, limit=len(consuming))
            routes = {j.task_name: j.queue for j in JOBS.values()}
            for attr, reply in (("reserved", insp.reserved() or {}), ("active", insp.active() or {})):
                for tasks in reply.values():
                    for t in tasks or []:
                        q = (t.get("delivery_info") or {}).get("routing_key") or routes.get(t.get("name"))
                        if q in states:
                            setattr(states[q], attr, getattr(states[q], attr) + 1)
        pipe = self.redis.pipeline()
        for s in states.values():
            pipe.hset(f"{KEY}:queues", mapping={f"{s.queue}|depth": s.depth, f"{s.queue}|workers": len(s.workers)})
        pipe.execute()
        return states

    def avg_duration(self, job: str, backend: str) -> float | None:
        """Moving average of ``job``'s last durations on ``backend`` (None before the first)."""
        return self._avg(f"{KEY}:durations:{job}:{backend}")

    def avg_queue_duration(self, queue: str) -> float | None:
        """Moving average of the last jobs of any kind on ``queue``."""
        return self._avg(f"{KEY}:durations:queue:{queue}")

    def _avg(self, key: str) -> float | None:
        if self.redis is None:
            return None
        vals = [float(v) for v in self.redis.lrange(key, 0, -1)]
        return sum(vals) / len(vals) if vals else None

    def modal_spent_today(self) -> float:
        if self.redis is None:
            return 0.0
        return float(self.redis.get(f"{KEY}:modal_spend:{today()}") or 0.0)

    def _charge_modal(self, usd: float) -> None:
        if self.redis is not None and usd:
            key = f"{KEY}:modal_spend:{today()}"
            self.redis.incrbyfloat(key, usd)
            self.redis.expire(key, 8 * 86400)

    # --- decision --------------------------------------------------------------------------

    def estimates(self, spec: JobSpec, state: QueueState) -> dict[str, Estimate]:
        run_s = (self.avg_duration(spec.name, "celery") or self.avg_duration(spec.name, "local")
                 or spec.typical_seconds)
        per_task = self.avg_queue_duration(spec.queue) or run_s  # mean job on this queue
        n = len(state.workers)
        wait = state.depth * per_task / n if n else math.inf
        out = {"celery": Estimate("celery", wait, run_s, run_s * self.prices.self_hosted_per_s(spec.gpu))}
        if "modal" in self.backends:
            modal_wall = self.avg_duration(spec.name, "modal")  # measured: includes cold starts
            if modal_wall is None:
                modal_wall = self.prices.modal_cold_start_s + run_s
            out["modal"] = Estimate("modal", 0.0, modal_wall, modal_wall * self.prices.modal_per_s(spec.gpu))
        return out

    def decide(self, job: str, *, deadline_s: float | None = None, priority: str = "normal",
               backend: str | None = None, dry_run: bool = False) -> Decision:
        """Choose the backend (:func:`workers.dispatch_policy.choose` on what is observed now),
        log and count the decision; ``dry_run`` only returns it."""
        if job not in JOBS:
            from gpu_kernels.errors import BadInput

            raise BadInput(f"unknown job {job!r}")
        if priority not in PRIORITY_DEADLINE:
            raise ValueError(f"priority must be one of {sorted(PRIORITY_DEADLINE)}, got {priority!r}")
        spec = JOBS[job]
        deadline = float(deadline_s) if deadline_s is not None else spec.timeout * PRIORITY_DEADLINE[priority]
        d = Decision(job, "local", "", "", spec.queue, deadline, priority,
                     modal_budget_usd=self.prices.modal_daily_budget_usd)
        forced = backend or (self.default_backend if self.default_backend != "auto" else None)
        if forced:
            if forced not in BACKENDS:
                raise ValueError(f"backend must be one of {BACKENDS} or auto, got {forced!r}")
            if forced not in self.backends:
                raise BackendUnavailable(f"backend {forced!r} is not configured here")
            d.backend, d.reason, d.detail = forced, "forced", f"backend forced to {forced}"
            return d if dry_run else self._log(d)
        if self.redis is None or self.celery_app is None:
            d.reason, d.detail = "embedded", "no Redis configured: running in-process"
            return d if dry_run else self._log(d)

        state = self.observe()[spec.queue]
        est = self.estimates(spec, state)
        spent = self.modal_spent_today()
        d.state, d.estimates, d.modal_spent_usd = replace(state, workers=list(state.workers)), est, spent
        c = choose(spec.queue, state.depth, len(state.workers), est, spent, self.prices.modal_daily_budget_usd,
                   deadline)
        d.backend, d.reason, d.detail = c.backend, c.reason, c.detail
        if dry_run:
            return d
        if d.backend == "celery":
            with self._lock:  # until the next observation, count this job in the backlog
                state.waiting += 1
        return self._log(d)

    def explain(self, job: str, *, deadline_s: float | None = None, priority: str = "normal") -> Decision:
        """The decision ``dispatch`` would take now, with no side effect: nothing logged or
        counted, no job added to the backlog."""
        return self.decide(job, deadline_s=deadline_s, priority=priority, dry_run=True)

    def _log(self, d: Decision) -> Decision:
        log.info("dispatch %s -> %s (%s): %s", d.job, d.backend, d.reason, d.detail)
        if self.redis is not None:
            pipe = self.redis.pipeline()
            pipe.lpush(f"{KEY}:log", json.dumps(d.to_dict()))
            pipe.ltrim(f"{KEY}:log", 0, 999)
            pipe.hincrby(f"{KEY}:decisions", f"{d.job}|{d.backend}|{d.reason}", 1)
            pipe.execute()
        return d

    # --- running ---------------------------------------------------------------------------

    def default_timeout(self, job: str, backend: str, decision: Decision | None = None) -> float:
        spec = JOBS[job]
        if backend == "celery":
            wait = 0.0
            if decision and "celery" in decision.estimates:
                w = decision.estimates["celery"].wait_s
                wait = w if math.isfinite(w) else spec.timeout
            return spec.timeout * (1 + spec.retries) + wait + 120.0
        if backend == "modal":
            return spec.timeout * (1 + spec.retries) + self.prices.modal_cold_start_s + 120.0
        return float(spec.timeout)

    def dispatch(self, job: str, kwargs: dict, *, deadline_s: float | None = None,
                 priority: str = "normal", backend: str | None = None,
                 timeout: float | None = None) -> tuple[dict, Decision]:
        """Decide, run and account for one job; returns (result dict, decision)."""
        d = self.decide(job, deadline_s=deadline_s, priority=priority, backend=backend)
        spec = JOBS[job]
        reserved = 0.0
        if d.backend == "modal":
            est = d.estimates.get("modal")
            reserved = est.cost_usd if est else (self.prices.modal_cold_start_s + spec.typical_seconds) \
                * self.prices.modal_per_s(spec.gpu)
            self._charge_modal(reserved)  # reserve now, so concurrent decisions see it
        t0 = time.monotonic()
        ok = False
        try:
            result = self.backends[d.backend].run(
                job, kwargs, timeout if timeout is not None else self.default_timeout(job, d.backend, d))
            ok = True
            return result, d
        finally:
            elapsed = time.monotonic() - t0
            if d.backend == "modal":
                self._charge_modal(elapsed * self.prices.modal_per_s(spec.gpu) - reserved)
            if self.redis is not None:
                if ok and d.backend != "celery":  # Celery workers record their own run time
                    record_duration(self.redis, job, d.backend, elapsed)
                self.redis.hincrby(f"{KEY}:results", f"{job}|{d.backend}|{'ok' if ok else 'error'}", 1)

    def run(self, job: str, kwargs: dict, **kw) -> dict:
        return self.dispatch(job, kwargs, **kw)[0]

    # --- metrics ---------------------------------------------------------------------------

    def recent_decisions(self, n: int = 20) -> list[dict]:
        if self.redis is None:
            return []
        return [json.loads(x) for x in self.redis.lrange(f"{KEY}:log", 0, n - 1)]

    def prometheus_text(self) -> str:
        """The dispatcher's counters and gauges in the Prometheus text exposition format."""
        lines = [
            "# HELP captionacc_dispatch_decisions_total Dispatch decisions by job, backend and reason.",
            "# TYPE captionacc_dispatch_decisions_total counter",
        ]
        if self.redis is None:
            return "\n".join(lines) + "\n"
        for f, v in sorted(self.redis.hgetall(f"{KEY}:decisions").items()):
            job, backend, reason = f.decode().split("|")
            lines.append(f'captionacc_dispatch_decisions_total{{job="{job}",backend="{backend}",'
                         f'reason="{reason}"}} {int(v)}')
        lines += ["# HELP captionacc_dispatch_results_total Dispatched jobs by outcome.",
                  "# TYPE captionacc_dispatch_results_total counter"]
        for f, v in sorted(self.redis.hgetall(f"{KEY}:results").items()):
            job, backend, outcome = f.decode().split("|")
            lines.append(f'captionacc_dispatch_results_total{{job="{job}",backend="{backend}",'
                         f'outcome="{outcome}"}} {int(v)}')
        lines += ["# HELP captionacc_queue_depth Waiting+reserved+active tasks at the last observation.",
                  "# TYPE captionacc_queue_depth gauge",
                  "# HELP captionacc_workers_online Workers consuming the queue at the last observation.",
                  "# TYPE captionacc_workers_online gauge"]
        for f, v in sorted(self.redis.hgetall(f"{KEY}:queues").items()):
            queue, what = f.decode().split("|")
            name = "captionacc_queue_depth" if what == "depth" else "captionacc_workers_online"
            lines.append(f'{name}{{queue="{queue}"}} {int(v)}')
        lines += ["# HELP captionacc_job_duration_seconds Moving average of recent job durations.",
                  "# TYPE captionacc_job_duration_seconds gauge"]
        for job in JOBS:
            for backend in BACKENDS:
                avg = self.avg_duration(job, backend)
                if avg is not None:
                    lines.append(f'captionacc_job_duration_seconds{{job="{job}",backend="{backend}"}} {avg:.3f}')
        lines += [
            "# HELP captionacc_modal_spend_usd Estimated Modal spend today (UTC).",
            "# TYPE captionacc_modal_spend_usd gauge",
            f"captionacc_modal_spend_usd {self.modal_spent_today():.6f}",
            "# HELP captionacc_modal_budget_usd Daily Modal budget.",
            "# TYPE captionacc_modal_budget_usd gauge",
            f"captionacc_modal_budget_usd {self.prices.modal_daily_budget_usd:.2f}",
        ]
        return "\n".join(lines) + "\n"


_default: Dispatcher | None = None
_default_lock = threading.Lock()


def default_dispatcher() -> Dispatcher:
    """One Dispatcher per process, from the environment (built on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Dispatcher.from_env()
        return _default


def reset_default_dispatcher() -> None:
    global _default
    with _default_lock:
        _default = None


__all__ = ["Dispatcher", "Decision", "Estimate", "Prices", "QueueState", "BackendTimeout",
           "BackendUnavailable", "LocalBackend", "CeleryBackend", "ModalBackend", "record_duration",
           "default_dispatcher", "set_default_dispatcher", "broker_url"]


def set_default_dispatcher(dispatcher: Dispatcher | None) -> None:
    """Replace this process's dispatcher (tests; embedding applications with their own wiring)."""
    global _default
    with _default_lock:
        _default = dispatcher
