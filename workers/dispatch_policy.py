"""The dispatcher's choice as a pure function of what it observed: no Redis, no Celery, no I/O.

:func:`choose` takes the job, its queue's state, the per-backend estimates, the day's Modal spend
and budget and the deadline, and returns the backend with a reason code and the reason in words.
The same inputs always give the same decision, so the policy is tested on its own and
``captionacc dispatcher explain`` shows a decision without taking it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Choice:
    backend: str
    reason: str  # no_workers | no_workers_no_modal | modal_disabled | budget_spent | cheapest | fastest
    detail: str


def choose(queue: str, depth: int, workers: int, estimates: dict, modal_spent_usd: float,
           modal_budget_usd: float, deadline_s: float) -> Choice:
    """``estimates``: backend → an object with ``finish_s`` and ``cost_usd`` ("modal" present
    only when Modal is configured). The rules, in order: no worker online → Modal if it fits the
    day's budget, else wait on Celery; Modal not configured or over budget → Celery; otherwise
    the cheapest backend that meets the deadline, or the fastest when none does."""
    modal = estimates.get("modal")
    fits = modal is not None and modal_spent_usd + modal.cost_usd <= modal_budget_usd
    nums = f"{depth} queued on {queue}, {workers} worker(s)"
    if not workers:
        if fits:
            return Choice("modal", "no_workers", f"no Celery worker online for {queue}; Modal ~${modal.cost_usd:.4f}")
        why = "Modal is not configured" if modal is None else \
            f"Modal budget spent (${modal_spent_usd:.2f} of ${modal_budget_usd:.2f} today)"
        return Choice("celery", "no_workers_no_modal",
                      f"no Celery worker online for {queue} and {why}: queued for a worker")
    if modal is None:
        return Choice("celery", "modal_disabled", f"Modal not configured; {nums}")
    if not fits:
        return Choice("celery", "budget_spent",
                      f"Modal budget spent: ${modal_spent_usd:.4f} + ~${modal.cost_usd:.4f} > ${modal_budget_usd:.2f} "
                      f"today; {nums}, est. finish {estimates['celery'].finish_s:.0f}s")
    meeting = [e for e in estimates.values() if e.finish_s <= deadline_s]
    if meeting:
        best = min(meeting, key=lambda e: (e.cost_usd, e.finish_s))
        reason, detail = "cheapest", f"cheapest meeting the {deadline_s:.0f}s deadline"
    else:
        best = min(estimates.values(), key=lambda e: (e.finish_s, e.cost_usd))
        reason, detail = "fastest", f"no backend meets the {deadline_s:.0f}s deadline: fastest"
    detail += "; " + ", ".join(f"{e.backend}: finish ~{e.finish_s:.0f}s, ~${e.cost_usd:.4f}"
                               for e in estimates.values()) + f"; {nums}"
    return Choice(best.backend, reason, detail)


# Prices live here, beside the pure choice, so a tool on a machine without Celery or Redis
# (benchmarks/gpu_check.py on a lent GPU) prices its figures as the dispatcher does.
def _env_float(name: str, default: float) -> float:
    v = os.environ.get(name)
    return float(v) if v not in (None, "") else default


@dataclass(frozen=True)
class Prices:
    modal_usd_per_hour: dict = field(default_factory=lambda: {"t4": 0.59, "a10g": 1.10})
    self_hosted_usd_per_hour: dict = field(default_factory=lambda: {"t4": 0.10, "a10g": 0.20})
    modal_cold_start_s: float = 20.0
    modal_daily_budget_usd: float = 20.0

    @classmethod
    def from_env(cls) -> "Prices":
        return cls(
            modal_usd_per_hour={g: _env_float(f"CAPTIONACC_MODAL_USD_PER_HOUR_{g.upper()}", d)
                                for g, d in (("t4", 0.59), ("a10g", 1.10))},
            self_hosted_usd_per_hour={g: _env_float(f"CAPTIONACC_SELF_HOSTED_USD_PER_HOUR_{g.upper()}", d)
                                      for g, d in (("t4", 0.10), ("a10g", 0.20))},
            modal_cold_start_s=_env_float("CAPTIONACC_MODAL_COLD_START_S", 20.0),
            modal_daily_budget_usd=_env_float("CAPTIONACC_MODAL_DAILY_BUDGET_USD", 20.0),
        )

    def modal_per_s(self, gpu: str) -> float:
        return self.modal_usd_per_hour[gpu] / 3600.0

    def self_hosted_per_s(self, gpu: str) -> float:
        return self.self_hosted_usd_per_hour[gpu] / 3600.0
