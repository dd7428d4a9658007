"""``captionacc dispatcher status | explain | metrics``: what the dispatcher sees and would do.

``status`` prints each GPU queue (waiting, reserved, running, the workers consuming it), the jobs'
moving-average durations, the day's Modal spend against its budget and the recent decisions.
``explain JOB`` shows the decision a job would get now, with its estimates, taking nothing (no
decision logged or counted, no job added to the backlog). ``metrics`` serves the Prometheus text
at ``http://HOST:PORT/metrics`` (loopback by default).
"""

from __future__ import annotations

import argparse
import sys
import time

from .celery_app import JOB_ALIASES, JOBS
from .dispatcher import BACKENDS, Dispatcher


def register(subparsers) -> None:
    d = subparsers.add_parser("dispatcher", help="the dispatcher: status, explain a decision, serve metrics")
    sub = d.add_subparsers(dest="what", required=True)
    s = sub.add_parser("status", help="queues, workers, durations, Modal budget, recent decisions")
    s.add_argument("--decisions", type=int, default=10, help="how many recent decisions to show")
    s.set_defaults(func=run_status)
    e = sub.add_parser("explain", help="the decision a job would get now, with no side effect")
    e.add_argument("job", choices=sorted(JOB_ALIASES) + sorted(JOBS))
    e.add_argument("--priority", default="normal", choices=("high", "normal", "low"))
    e.add_argument("--deadline", type=float, default=None, help="seconds (default: set by the priority)")
    e.set_defaults(func=run_explain)
    m = sub.add_parser("metrics", help="serve the Prometheus metrics over HTTP")
    m.add_argument("--host", default="127.0.0.1")
    m.add_argument("--port", type=int, default=9108)
    m.set_defaults(func=run_metrics)


def _dispatcher():
    from tasks.errors import Fatal

    from .celery_app import configured_broker_url, unreachable_redis

    url = configured_broker_url()
    problem = url and unreachable_redis(url)
    if problem:
        raise Fatal(problem)  # one line, exit 3
    return Dispatcher.from_env(inspect_timeout=2.0, observe_ttl=0)


def run_status(args: argparse.Namespace) -> int:
    d = _dispatcher()
    if d.redis is None:
        print("no Redis configured (CAPTIONACC_REDIS_URL): every job runs in this process (local)")
        return 0
    print("queues:")
    for q, st in sorted(d.observe(refresh=True).items()):
        who = ", ".join(st.workers) or "no worker online"
        print(f"  {q}: {st.waiting} waiting, {st.reserved} reserved, {st.active} running; {who}")
    print("job durations (moving average of recent runs):")
    for job in JOBS:
        avgs = {b: d.avg_duration(job, b) for b in BACKENDS}
        shown = ", ".join(f"{b} {v:.1f} s" for b, v in avgs.items() if v is not None) or "none measured yet"
        print(f"  {job}: {shown}")
    spent, budget = d.modal_spent_today(), d.prices.modal_daily_budget_usd
    state = "configured" if "modal" in d.backends else "not configured (no credentials, or CAPTIONACC_MODAL_ENABLED=0)"
    print(f"modal: {state}; spent ${spent:.2f} of ${budget:.2f} today, ${max(0.0, budget - spent):.2f} left")
    recent = d.recent_decisions(args.decisions)
    print(f"recent decisions ({len(recent)}):")
    for x in recent:
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(x["at"]))
        print(f"  {at} {x['job']} -> {x['backend']} ({x['reason']}): {x['detail']}")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    d = _dispatcher()
    job = JOB_ALIASES.get(args.job, args.job)
    x = d.explain(job, deadline_s=args.deadline, priority=args.priority)
    print(f"{job} -> {x.backend} ({x.reason}): {x.detail}")
    print(f"deadline {x.deadline_s:.0f} s ({x.priority} priority)")
    for e in x.estimates.values():
        print(f"  {e.backend}: wait ~{e.wait_s:.0f} s, run ~{e.run_s:.0f} s, ~${e.cost_usd:.4f}")
    return 0


def metrics_server(dispatcher, host: str, port: int):
    """A ThreadingHTTPServer answering ``GET /metrics`` with the dispatcher's Prometheus text."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "only /metrics here")
                return
            body = dispatcher.prometheus_text().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a) -> None:  # scrapes every few seconds: not worth a log line each
            pass

    return ThreadingHTTPServer((host, port), Handler)


def run_metrics(args: argparse.Namespace) -> int:
    server = metrics_server(_dispatcher(), args.host, args.port)
    print(f"serving http://{args.host}:{server.server_address[1]}/metrics", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
