"""An idle api replica, its health checks included, spends at most 0.002 core (issue 21: a replica spends its CPU on
requests). Read from its cgroup over 60 s: a budget on an idle process, not a timing assertion. No `docker exec`
in the window (one costs ~18 ms in the container's cgroup). Over budget, the failure says where the CPU went:
requests the replica served in the window (its /metrics through the lb, read before and after) and each
long-lived process's share (the rest: short-lived ones, the health checks' execs)."""

from __future__ import annotations

import time
import urllib.request

from compose import Compose, inspect

from bench.idle import idle_core
from capacity.backends.docker.throttle import api_requests
from labtools import container_processes

BUDGET_CORE = 0.002
WINDOW_S = 60.0


def requests_served(api_url: str) -> int:
    return api_requests(urllib.request.urlopen(f"{api_url}/metrics", timeout=10).read().decode(), routes=None)


def where_it_went(before: dict, after: dict, window_s: float) -> str:
    shares = [f"{after[pid][0][:60]!r} {(after[pid][1] - before[pid][1]) / window_s:.5f}"
              for pid in sorted(after) if pid in before]
    return "; ".join(shares)


def test_idle_replica_within_budget(stack: Compose, api_url: str):
    # The replica as deployed: the session's MODEL_RELOAD_INTERVAL_S=2 (other tests) polls MLflow 15 times as often
    # (measured 0.00195 core with it, 0.0009 at the default 30 s); the session's value is restored at the end.
    default = {"MODEL_RELOAD_INTERVAL_S": "30"}
    stack.run("up", "-d", "--no-build", "--no-deps", "--force-recreate", "--wait", "api", env=default, timeout=300)
    try:
        (container,) = stack.container_ids("api")
        full = inspect(container, "{{.Id}}")
        time.sleep(5)  # past the start: the health check has passed and paces itself to once a minute
        served, processes = requests_served(api_url), container_processes(full)
        used = idle_core(full, WINDOW_S)
        served = requests_served(api_url) - served - 1  # less our own first read
        where = where_it_went(processes, container_processes(full), WINDOW_S)
        checks = inspect(full, "{{len .State.Health.Log}}")
    finally:
        stack.run("up", "-d", "--no-build", "--no-deps", "--force-recreate", "--wait", "api", timeout=300)
    print(f"idle api replica: {used:.5f} core over {WINDOW_S:g} s (health log entries: {checks}, "
          f"requests served: {served:g}; long-lived processes, core: {where})")
    assert used <= BUDGET_CORE, f"{used:.5f} core > {BUDGET_CORE} idle; {served:g} requests served; {where}"
