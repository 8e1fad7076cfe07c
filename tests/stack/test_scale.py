"""Replicas and their limits change under Locust load with the README's own commands, and nothing is lost.

`make scale API_REPLICAS=N` adds or removes api replicas without recreating the running ones; the lb follows them
through Docker's DNS (nginx `resolve`) and retries on a ready replica while a new one loads its model.
`make limits` changes CPU and memory limits of the running replicas in place.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import UTC, datetime

from compose import ROOT, Compose, inspect, wait_until
from locustrun import LocustRun

PREDICTIONS = ("import urllib.request as u, re; t = u.urlopen('http://127.0.0.1:8000/metrics', timeout=5).read()"
               ".decode(); print(sum(float(n) for n in re.findall(r'^http_requests_total\\{[^}]*route=\"/predict\""
               "[^}]*status=\"2\\d\\d\"[^}]*\\} (\\S+)$', t, re.M)))")


def make(compose: Compose, *args: str) -> str:
    result = subprocess.run(["make", *args], cwd=ROOT, env={**os.environ, **compose.env}, capture_output=True,
                            text=True, timeout=400)
    assert result.returncode == 0, f"make {' '.join(args)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def nginx_status(compose: Compose) -> str:
    """The lb's stub_status, read the way the Locust UI reads it: http://lb:8081/nginx_status on the network."""
    code = "import urllib.request as u; print(u.urlopen('http://lb:8081/nginx_status', timeout=5).read().decode())"
    return compose.run("exec", "-T", "api", "python", "-c", code).stdout


def lb_requests(compose: Compose) -> int:
    """Requests the lb has handled so far (third number of stub_status's `accepts handled requests` line)."""
    return int(re.search(r"^\s*\d+\s+\d+\s+(\d+)\s*$", nginx_status(compose), re.M).group(1))


def predictions(container: str) -> float:
    """Successful POST /predict answered by this replica, from its own /metrics."""
    out = subprocess.run(["docker", "exec", container, "python", "-c", PREDICTIONS], capture_output=True,
                         text=True, check=True, timeout=30).stdout
    return float(out.strip() or 0)


def stamp() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S")


def limits(container: str) -> tuple[int, int]:
    cpus, memory = inspect(container, "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}").split()
    return int(cpus), int(memory)


def test_stub_status_on_the_network_only(stack: Compose):
    assert "Active connections" in nginx_status(stack)
    (lb,) = stack.container_ids("lb")
    published = subprocess.run(["docker", "port", lb], capture_output=True, text=True, check=True).stdout
    assert published.strip() and "8081" not in published, published


def test_scale_and_limits_under_load_lose_nothing(stack: Compose):
    # Start from the stack as a plain `up` defines it: earlier modules recreate api with other knobs (the capacity
    # runner's cells, then its restore), and a replica left from them is not what `make scale` is judged on.
    stack.run("up", "-d", "--no-build", "--wait", timeout=300)
    first = set(stack.container_ids("api"))
    assert len(first) == 1
    run = LocustRun(stack, "ci-scale", users=300, spawn_rate=100, run_time="90s").start()
    try:
        start = lb_requests(stack)
        wait_until(lambda: lb_requests(stack) > start + 1500, 240, "Locust traffic through the lb", 2)

        steps = {"load": stamp()}
        make(stack, "scale", "API_REPLICAS=3")
        steps["scaled up"] = stamp()
        three = set(stack.container_ids("api"))
        assert len(three) == 3 and first <= three, (first, three)  # the running replica was not recreated
        before = {c: predictions(c) for c in three}
        wait_until(lambda: all(predictions(c) > before[c] for c in three), 30, "every replica serving", 2)

        steps["all serving"] = stamp()
        make(stack, "limits", "API_CPUS=0.5", "API_MEMORY=384M")
        steps["limits"] = stamp()
        assert {limits(c) for c in three} == {(int(0.5e9), 384 * 1024**2)}
        assert set(stack.container_ids("api")) == three  # in place: no container replaced

        make(stack, "scale", "API_REPLICAS=1")
        steps["scaled down"] = stamp()
        one = set(stack.container_ids("api"))
        assert len(one) == 1 and one <= three, (three, one)
        assert run.proc is not None and run.proc.poll() is None, "Locust ended before the last change"
    finally:
        summary = run.wait()
        make(stack, "limits", f"API_CPUS={stack.env['API_CPUS']}", f"API_MEMORY={stack.env['API_MEMORY']}")
    errors = lb_errors(stack)
    print(f"scale run: {summary['requests']} requests, {summary['failures']} failures; steps: {steps}; "
          f"lb errors and retries: {len(errors)}, timeouts: {sum('timed out' in e for e in errors)}")
    assert summary["requests"] > 0, summary
    assert summary["failures"] == 0, (summary, steps, errors)


def lb_errors(compose: Compose) -> list[str]:
    return [line for line in compose.logs("lb", tail=400).splitlines() if "[error]" in line or "[warn]" in line]


def test_plain_up_afterwards_keeps_the_replicas(stack: Compose):
    """README: after `make scale` / `make limits` back to the environment's values, a plain `up` recreates nothing."""
    before = set(stack.container_ids("api"))
    stack.run("up", "-d", "--no-build", "--wait", timeout=300)
    assert set(stack.container_ids("api")) == before
