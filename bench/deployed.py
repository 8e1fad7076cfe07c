"""The deployed path: the same wrk load through the compose stack's lb (nginx) to one api replica, and straight to
that replica, to put a number on what the lb costs per request and how many requests/s one lb core carries.

Holds /tmp/lab-docker.lock (shared by everyone who changes the stack) for the whole measurement, bounded. Starts
the stack with one replica when it is down (and stops it after), or uses it when it is up with exactly one.
Pins with `docker update --cpuset-cpus`: the api replica on the server core, nginx on the load generator's core
(wrk pinned there too), and puts the cpusets back afterwards. Both URLs are container addresses on the compose
network, so no docker-proxy sits in either path. The lb's cost is its own CPU time (nginx master + workers, from
/proc) during the loaded run through it, divided by the requests it carried.
"""

from __future__ import annotations

import csv
import fcntl
import json
import os
import signal
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench import load
from bench.load import LoadResult
from bench.procs import Cores, tree_cpu_seconds
from bench.variants import ROOT

LOCK = Path("/tmp/lab-docker.lock")
LOCK_WAIT_S = 1800  # other helpers' stack tests hold it for minutes at a time
UP_TIMEOUT_S = 600


@dataclass(frozen=True)
class Deployed:
    direct: LoadResult  # wrk -> api replica
    via_lb: LoadResult  # wrk -> nginx -> api replica
    direct_single: LoadResult
    via_lb_single: LoadResult
    lb_cpu_s: float  # nginx CPU seconds during the loaded run through it
    placement: str

    @property
    def lb_us_per_request(self) -> float:
        return self.lb_cpu_s / max(1, self.via_lb.requests) * 1e6

    @property
    def lb_rps_per_core(self) -> float:
        return 1e6 / self.lb_us_per_request if self.lb_us_per_request else float("inf")

    @property
    def added_p50_ms(self) -> float:
        """What the hop adds to an unloaded request (1 connection, median)."""
        return self.via_lb_single.p50_ms - self.direct_single.p50_ms


class LockBusy(Exception):
    pass


@contextmanager
def docker_lock(wait_s: float = LOCK_WAIT_S):
    """Exclusive /tmp/lab-docker.lock, as `flock -w wait_s` takes it (a blocking wait cut short by SIGALRM, so
    it queues with the other waiters instead of polling); 0: one try. LockBusy when it stays held."""
    def give_up(*_):
        raise LockBusy(f"{LOCK} still held by someone else after {wait_s:.0f} s")

    with open(LOCK, "a") as f:
        if wait_s <= 0:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                give_up()
        else:
            previous = signal.signal(signal.SIGALRM, give_up)
            signal.alarm(max(1, round(wait_s)))
            try:
                fcntl.flock(f, fcntl.LOCK_EX)
            finally:
                signal.alarm(0)
                signal.signal(signal.SIGALRM, previous)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _run(*args: str, timeout: float = 60, env: dict | None = None) -> str:
    out = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                         env={**os.environ, **(env or {})})
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:4])} failed (exit {out.returncode}): {out.stderr[-1500:]}")
    return out.stdout


def _containers(service: str) -> list[dict]:
    ids = _run("docker", "compose", "ps", "-q", "--status", "running", service).split()
    return [json.loads(_run("docker", "inspect", cid))[0] for cid in ids]


def _address(container: dict) -> str:
    return next(iter(container["NetworkSettings"]["Networks"].values()))["IPAddress"]


@contextmanager
def _pinned(pins: dict[str, int | None]):
    """Each running container (id -> core) on one core with a limit of one CPU for the duration (whatever a
    capacity cell left them with); their cpuset and CPU limit put back afterwards."""
    before = {cid: json.loads(_run("docker", "inspect", cid))[0]["HostConfig"] for cid in pins}
    try:
        for cid, core in pins.items():
            cpuset = [] if core is None else ["--cpuset-cpus", str(core)]
            _run("docker", "update", "--cpus", "1", *cpuset, cid)
        yield
    finally:
        every = ",".join(str(c) for c in sorted(psutil.Process().cpu_affinity()))
        for cid, host in before.items():
            _run("docker", "update", "--cpus", f"{host['NanoCpus'] / 1e9:g}",
                 "--cpuset-cpus", host["CpusetCpus"] or every, cid)


@contextmanager
def _stack(log):
    """The compose stack with one api replica: the running one, or one started here and stopped after."""
    running = _containers("api")
    if running:
        if len(running) != 1:
            raise RuntimeError(f"the running stack has {len(running)} api replicas; this measures exactly one")
        yield
        return
    log("deployed path: starting the compose stack with one api replica (docker compose up --wait)")
    env = {"API_REPLICAS": "1"}
    try:
        _run("docker", "compose", "up", "-d", "--wait", "--wait-timeout", str(UP_TIMEOUT_S), timeout=UP_TIMEOUT_S + 120,
             env=env)
        yield
    finally:
        _run("docker", "compose", "down", timeout=300)


def measure(body: Path, plan, cores: Cores, log, lock_wait_s: float = LOCK_WAIT_S) -> Deployed:
    """LockBusy when the docker lock stays held for `lock_wait_s`."""
    with docker_lock(lock_wait_s), _stack(log):
        [api], [lb] = _containers("api"), _containers("lb")
        direct_url = f"http://{_address(api)}:8000/predict"
        lb_url = f"http://{_address(lb)}:80/predict"
        placement = (f"api replica `docker update --cpus 1 --cpuset-cpus {cores.server}`, nginx "
                     f"`--cpus 1 --cpuset-cpus {cores.load}` (the core wrk is pinned to)")
        with _pinned({api["Id"]: cores.server, lb["Id"]: cores.load}):
            load.wrk(direct_url, body, plan.connections, plan.warmup, cores.load)
            direct = load.wrk(direct_url, body, plan.connections, plan.duration, cores.load)
            direct_single = load.wrk(direct_url, body, 1, plan.duration, cores.load)
            load.wrk(lb_url, body, plan.connections, plan.warmup, cores.load)
            before = tree_cpu_seconds(lb["State"]["Pid"])
            via_lb = load.wrk(lb_url, body, plan.connections, plan.duration, cores.load)
            lb_cpu = tree_cpu_seconds(lb["State"]["Pid"]) - before
            via_lb_single = load.wrk(lb_url, body, 1, plan.duration, cores.load)
    return Deployed(direct, via_lb, direct_single, via_lb_single, lb_cpu, placement)


def deployed_lines(result: Deployed | str | None, plan) -> list[str]:
    if result is None:
        return ["Not measured in this run (--smoke or --no-deployed)."]
    if isinstance(result, str):
        return [result]
    rows = [("straight to the replica", result.direct, result.direct_single),
            ("through the lb", result.via_lb, result.via_lb_single)]
    lines = [f"Compose stack, one api replica, {result.placement}. Same body, same wrk, {plan.connections} "
             f"connections then 1, {plan.duration:.0f} s each.", "",
             f"| path | req/s ({plan.connections} conn) | p50 ms | p99 ms | errors | req/s (1 conn) "
             "| p50 ms (1 conn) |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {name} | {lo.rps:,.0f} | {lo.p50_ms:.2f} | {lo.p99_ms:.2f} | "
              f"{lo.status_errors + lo.socket_errors + one.status_errors + one.socket_errors} | {one.rps:,.0f} | "
              f"{one.p50_ms:.2f} |" for name, lo, one in rows]
    return lines + ["", f"**The lb's cost**: nginx used {result.lb_cpu_s:.2f} CPU s for {result.via_lb.requests:,} "
                        f"requests = **{result.lb_us_per_request:.0f} us of CPU per request**, so **one lb core "
                        f"carries ~{result.lb_rps_per_core:,.0f} requests/s**. The hop adds "
                        f"{result.added_p50_ms * 1000:.0f} us to an unloaded request (p50 at 1 connection)."]


def write_deployed_csv(result: Deployed, connections: int, path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "connections", "rps", "p50_ms", "p99_ms", "requests", "errors", "rps_1conn",
                         "p50_ms_1conn", "lb_cpu_s", "lb_us_per_request", "lb_rps_per_core"])
        for name, lo, one in (("direct", result.direct, result.direct_single),
                              ("via-lb", result.via_lb, result.via_lb_single)):
            lb = name == "via-lb"
            writer.writerow([name, connections, round(lo.rps, 1), round(lo.p50_ms, 3), round(lo.p99_ms, 3),
                             lo.requests, lo.status_errors + lo.socket_errors + one.status_errors + one.socket_errors,
                             round(one.rps, 1), round(one.p50_ms, 3), round(result.lb_cpu_s, 3) if lb else "",
                             round(result.lb_us_per_request, 1) if lb else "",
                             round(result.lb_rps_per_core) if lb else ""])
