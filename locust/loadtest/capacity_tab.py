"""A "Capacity" tab in Locust's own web UI: is this run measuring the API, or the generator and the host?

Locust's extension points (locustio/locust `examples/extend_web_ui.py`): the tab and its table go into
`web_ui.template_args` (`extended_tabs`, `extended_tables`); its rows ride on the `/stats/requests` answer the
UI polls anyway (`extended_stats`), so the tab refreshes with the normal stats. The same answer carries the
numbers behind the rows as `capacity` (the verdict from loadtest.validity, load, workers, replicas, lb).

On the master a background greenlet, every LOCUST_SCRAPE_INTERVAL_S, reads the master's own CPU and run-queue
wait, scrapes every API replica (each address LOCUST_API_SERVICE resolves to, its own /metrics) and the lb's
stub_status with short timeouts, and recomputes the verdict; requests to the UI only read the last result.
Workers report their CPU, run-queue wait and users with every stats report (loadtest.telemetry).
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections import deque
from dataclasses import asdict

import gevent
import urllib3
from locust.runners import MasterRunner, WorkerRunner

from loadtest import capacity_view as cv
from loadtest.meter import WindowedMeter, hostname
from loadtest.scrape import ReplicaView, Scrape, fetch_text, parse_metrics, parse_stub_status, resolve, view
from loadtest.settings import Settings
from loadtest.telemetry import REPORT_KEY
from loadtest.validity import Generator, Load, Replica, judge

logger = logging.getLogger(__name__)
KEY, TITLE = "capacity", "Capacity"
WINDOW_S = 10.0  # offered vs delivered over the last 10 s (Locust's own current RPS window)
STALE_S = 10.0  # a worker silent this long is shown as stale (it reports every 3 s)
UPSTREAM_ERROR = re.compile(r"\b50[234]\b|connection|timed? ?out", re.IGNORECASE)


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else "inf"
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _fetch(pool: urllib3.PoolManager, url: str, timeout_s: float) -> tuple[str | None, str | None]:
    """(text, None) or (None, why): a failed scrape is a row that says so, not a greenlet traceback."""
    try:
        return fetch_text(pool, url, timeout_s), None
    except (OSError, urllib3.exceptions.HTTPError) as exc:
        return None, f"{type(exc).__name__}: {getattr(exc, 'reason', None) or exc}"[:160]


class Board:
    """Everything the tab shows, refreshed by `tick()`; `snapshot` is what /stats/requests adds."""

    def __init__(self, environment, settings: Settings, clock=time.monotonic) -> None:
        self.env, self.settings, self.clock = environment, settings, clock
        self.workers: dict[str, tuple[float, dict]] = {}  # client id -> (when, live reading)
        self.numbers: dict[str, int] = {}  # client id -> "worker N"
        self.scrapes: dict[str, Scrape] = {}
        self.replicas: list[ReplicaView] = []
        self.lb_status: dict[str, int] = {}
        self.lb_error: str | None = None
        self.meter, self.master = WindowedMeter(), None
        self.history: deque[tuple[float, int, float]] = deque(maxlen=64)
        self.users_changed = (clock(), 0)
        self.pool = urllib3.PoolManager(num_pools=16, maxsize=2)
        self.snapshot: dict = {"rows": [], "capacity": {}}

    def on_worker_report(self, client_id: str, data: dict) -> None:
        if live := (data.get(REPORT_KEY) or {}).get("now"):
            self.numbers.setdefault(client_id, len(self.numbers) + 1)
            self.workers[client_id] = (self.clock(), live)

    def processes(self) -> list[cv.Process]:
        runner, now = self.env.runner, self.clock()
        out = []
        for cid in sorted(getattr(runner, "clients", {}), key=lambda c: self.numbers.get(c, 0)):
            if cid in self.workers:
                at, live = self.workers[cid]
                out.append(cv.Process(f"worker {self.numbers[cid]}", live.get("host", "?"), live.get("cpu_pct"),
                                      live.get("runqueue_pct"), live.get("users"), stale=now - at > STALE_S))
        return out

    def load(self) -> Load:
        runner, now = self.env.runner, self.clock()
        total = runner.stats.total
        self.history.append((now, total.num_requests, float(total.total_response_time)))
        if runner.user_count != self.users_changed[1]:
            self.users_changed = (now, runner.user_count)
        old = next((h for h in reversed(self.history) if now - h[0] >= WINDOW_S), self.history[0])
        dt, dn = now - old[0], total.num_requests - old[1]
        # Locust's own current RPS counts requests by when workers made them, not when their 3 s reports
        # arrived; the mean response time is a ratio of two sums that arrive together, so the window is fine.
        delivered = total.current_rps
        response = (total.total_response_time - old[2]) / dn / 1000 if dn > 0 else None
        steady = runner.state == "running" and now - self.users_changed[0] >= WINDOW_S and dt >= WINDOW_S
        return Load(runner.user_count, self.settings.think_time_s, response, delivered, steady,
                    target_users=getattr(runner, "target_user_count", None))

    def scrape(self) -> None:
        timeout = self.settings.scrape_timeout_s
        try:
            addresses = resolve(self.settings.api_service)
        except OSError as exc:
            addresses = []
            self.replicas = [view(Scrape(self.settings.api_service, self.clock(), error=str(exc)), None)]
        jobs = {a: gevent.spawn(_fetch, self.pool, f"http://{a}/metrics", timeout) for a in addresses}
        lb = gevent.spawn(_fetch, self.pool, self.settings.lb_status_url, timeout)
        gevent.joinall([*jobs.values(), lb], timeout=timeout + 1)
        views, now = [], self.clock()
        for address, job in jobs.items():
            text, error = job.value or (None, "timed out")
            new = parse_metrics(address, now, text) if error is None else Scrape(address, now, error=error)
            views.append(view(new, self.scrapes.get(address)))
            if not new.error:
                self.scrapes[address] = new
        self.replicas = views or self.replicas
        text, self.lb_error = lb.value or (None, "timed out")
        self.lb_status = parse_stub_status(text) if text else {}

    def upstream_errors(self) -> int:
        return sum(e.occurrences for e in self.env.runner.stats.errors.values() if UPSTREAM_ERROR.search(str(e.error)))

    def tick(self) -> None:
        self.master = self.meter.read()
        self.scrape()
        load, procs = self.load(), self.processes()
        master = cv.Process("master", hostname(), self.master.cpu_pct, self.master.runqueue_pct, None)
        gens = [Generator(p.name, p.cpu_pct, p.runqueue_pct) for p in procs if not p.stale]
        gens.append(Generator("master", master.cpu_pct, master.runqueue_pct, role="master"))
        reps = [Replica(r.address, r.cpu_cores, r.cpu_limit_cores, r.throttled_share) for r in self.replicas]
        verdict = judge(load, gens, reps, self.settings.thresholds())
        errors = self.upstream_errors()
        rows = [cv.verdict_row(verdict, load), cv.load_row(verdict, load)]
        rows += [cv.process_row(p, "Locust worker") for p in procs] + [cv.process_row(master, "Locust master")]
        rows += [cv.replica_row(r) for r in self.replicas]
        rows.append(cv.lb_row(self.settings.lb_status_url, self.lb_status, errors, self.lb_error))
        capacity = {"verdict": verdict.as_dict() | {"idle": load.users == 0}, "load": asdict(load),
                    "workers": [asdict(p) for p in procs], "master": asdict(master),
                    "replicas": [asdict(r) for r in self.replicas],
                    "lb": {**self.lb_status, "error": self.lb_error, "upstream_errors": errors}}
        self.snapshot = _json_safe({"rows": rows, "capacity": capacity})

    def run_forever(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # the tab must never take the UI down; say why in the log and try again
                logger.exception("capacity tab: refresh failed")
            gevent.sleep(self.settings.scrape_interval_s)


def install(environment, board: Board) -> None:
    """Add the tab to the web UI and its rows to every /stats/requests answer."""
    from flask import request

    web_ui = environment.web_ui
    web_ui.template_args["extended_tabs"] = [{"title": TITLE, "key": KEY}]
    web_ui.template_args["extended_tables"] = [
        {"key": KEY, "structure": [{"key": k, "title": t} for k, t in cv.COLUMNS]}]

    @web_ui.app.after_request
    def add_capacity(response):
        if request.path != "/stats/requests" or response.status_code != 200:
            return response
        data = json.loads(response.get_data())
        data["extended_stats"] = [{"key": KEY, "data": board.snapshot["rows"]}]
        data["capacity"] = board.snapshot["capacity"]
        response.set_data(json.dumps(data))
        return response


def on_init(environment, runner=None, **_kw) -> None:
    """`events.init` listener: a web UI master (or single process) gets the tab; workers only report."""
    if environment.web_ui is None or isinstance(runner, WorkerRunner):
        return
    board = Board(environment, Settings())
    if isinstance(runner, MasterRunner):
        environment.events.worker_report.add_listener(board.on_worker_report)
    environment.events.test_start.add_listener(lambda **_kw: board.history.clear())
    environment.events.reset_stats.add_listener(lambda **_kw: board.history.clear())
    install(environment, board)
    gevent.spawn(board.run_forever)
