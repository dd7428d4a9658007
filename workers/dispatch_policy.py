"""The dispatcher's choice as a pure function of what it observed: no Redis, no Celery, no I/O.

:func:`choose` takes the job, its queue's state, the per-backend estimates, the day's Modal spend
and budget and the deadline, and returns the backend with a reason code and the reason in words.
The same inputs always give the same decision, so the policy is tested on its own and
``captionacc dispatcher explain`` shows a decision without taking it.
"""

from __future__ import annotations

from dataclasses import dataclass


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
