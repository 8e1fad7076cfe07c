"""The capacity runner with Locust workers on other hosts: one short cell through `python -m capacity sweep
--backend docker --worker-endpoint <hostb> --worker-endpoint <hostc>` writes the same files as the same cell run
with local workers only, 0 failures, and records the workers' hosts. The nodes (real Docker engines in network
namespaces, ../shared/offline-docker/node) start empty: the runner sends them the Locust image itself, starts a
worker on each for the cell and removes it afterwards. Stack and master on the main engine, published on 10.200.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from compose import ROOT, Compose, wait_until
from nodes import HOST_IP, docker, docker_host, node

from capacity.core.records import CellRecord
from labtools import free_port

NODES = ("hostb", "hostc")
OUT = ROOT / "results" / "ci-capacity-multihost"
CELL = "cpu0.25-mem256M-x1-p1"
GRID = """name = "multihost"
description = "one short cell, local Locust workers vs. workers on two other Docker hosts"
[grid]
cpus = [0.25]
memory = ["256M"]
replicas = [1]
[load]
users = 60
spawn_rate = 30
duration = "20s"
workers = 1
[generators]
workers_per_endpoint = 1
[slo]
p95_ms = 5000
"""


@contextlib.contextmanager
def empty_nodes(names: tuple[str, ...]) -> Iterator[None]:
    """Nodes up with no image at all (the runner must bring its own); always removed afterwards."""
    try:
        for name in names:
            node("down", name, timeout=120)  # leftovers of an interrupted run
            node("up", name, timeout=120)
        yield
    finally:
        for name in reversed(names):
            with contextlib.suppress(Exception):
                node("down", name, timeout=120)


@pytest.fixture(scope="module")
def lab(stack: Compose) -> Iterator[Compose]:
    shutil.rmtree(OUT, ignore_errors=True)
    with empty_nodes(NODES):
        try:
            yield stack
        finally:  # the runner's close() recreated api + lb on 10.200.0.1 with compose defaults: back to the stack's
            stack.run("up", "-d", "--no-deps", "--force-recreate", "--wait", "api", "lb", check=False, timeout=300)


def capacity(lab: Compose, grid: Path, out: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **lab.env, "HOST_BIND": HOST_IP, "LOCUST_MASTER_NODE_PORT": str(free_port()), **(env or {})}
    return subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "capacity", "sweep", str(grid), "--backend", "docker",
                           "--out", str(out), "--no-progress", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def files(cell_dir: Path) -> set[str]:
    return {p.name for p in cell_dir.iterdir()}


def test_a_cell_with_workers_on_two_other_hosts_writes_what_a_local_one_does(lab: Compose, tmp_path: Path):
    grid = tmp_path / "multihost.toml"
    grid.write_text(GRID)
    endpoints = [a for name in NODES for a in ("--worker-endpoint", docker_host(name))]

    bad = capacity(lab, grid, OUT / "bad", "--worker-endpoint", "unix:///run/offline-docker/nosuch.sock")
    assert bad.returncode == 2 and "nosuch.sock: no Docker engine answers" in bad.stderr, bad.stderr
    assert not (OUT / "bad").exists()  # refused before anything ran

    started = time.monotonic()
    local = capacity(lab, grid, OUT / "local")
    assert local.returncode == 0, local.stdout[-3000:] + local.stderr[-3000:]
    local_s = time.monotonic() - started
    remote = capacity(lab, grid, OUT / "remote", *endpoints)
    assert remote.returncode == 0, remote.stdout[-3000:] + remote.stderr[-3000:]
    print(f"capacity multi-host: local cell run {local_s:.0f} s, remote-worker run (image sent to 2 nodes) "
          f"{time.monotonic() - started - local_s:.0f} s")

    here, there = CellRecord.read(OUT / "local" / CELL), CellRecord.read(OUT / "remote" / CELL)
    assert files(OUT / "remote" / CELL) == files(OUT / "local" / CELL), (files(OUT / "local" / CELL),
                                                                         files(OUT / "remote" / CELL))
    assert {"cell.json", "locust_stats.csv", "locust_stats_history.csv", "resources.csv", "summary.json",
            "locust_workers.json"} <= files(OUT / "remote" / CELL)
    for record in (here, there):
        m = record.metrics
        assert m.error is None and m.generator_error is None, m
        assert m.failures == 0 and m.requests > 100 and m.users_reached == 60, m
    assert here.metrics.generator_hosts == {"local": 1}
    assert there.metrics.generator_hosts == {"hostb": 1, "hostc": 1, "local": 1}
    roster = json.loads((OUT / "remote" / CELL / "summary.json").read_text())["workers"]
    assert {"hostb", "hostc"} <= set(roster["hosts"]) and roster["lost"] == 0, roster
    summary = (OUT / "remote" / "summary.md").read_text()
    assert "1 on each of hostb (unix:///run/offline-docker/hostb.sock), hostc" in summary
    print(f"capacity multi-host: local {here.metrics.requests} requests, p95 {here.metrics.p95_ms} ms; "
          f"remote {there.metrics.requests} requests, p95 {there.metrics.p95_ms} ms, {there.metrics.generator_hosts}")
    for name in NODES:  # the runner removed its workers
        assert docker(name, "ps", "-aq").stdout.split() == [], name


def test_an_endpoint_that_cannot_reach_the_master_makes_the_cell_invalid_naming_it(lab: Compose, tmp_path: Path):
    """A firewall on hostc rejects the master's worker port: hostb's worker joins, hostc's cannot; the master gives
    up after LOCUST_EXPECT_WORKERS_MAX_WAIT and the cell is INVALID (the generator's problem, not the API's), its
    reason naming hostc. Both nodes are cleaned up."""
    grid = tmp_path / "multihost.toml"
    grid.write_text(GRID)
    port = str(free_port())
    subprocess.run(["ip", "netns", "exec", "hostc", "iptables", "-I", "DOCKER-USER", "-d", HOST_IP, "-p", "tcp",
                    "--dport", port, "-j", "REJECT"], check=True, timeout=30)  # the node goes at the end, rule too
    endpoints = [a for name in NODES for a in ("--worker-endpoint", docker_host(name))]
    run = capacity(lab, grid, OUT / "firewalled", *endpoints,
                   env={"LOCUST_MASTER_NODE_PORT": port, "LOCUST_EXPECT_WORKERS_MAX_WAIT": "20"})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]  # a cell error is the cell's verdict
    record = CellRecord.read(OUT / "firewalled" / CELL)
    error = record.metrics.generator_error or ""  # the generator's problem: INVALID, not the API's failure
    print(f"capacity multi-host, firewalled hostc: {record.status}: {error.splitlines()[:2]}")
    assert record.status == "invalid" and "did not join the master at 10.200.0.1:" in error, error
    assert "hostc (unix:///run/offline-docker/hostc.sock): 0 of 1 joined" in error and "hostb (" not in error, error
    for name in NODES:
        wait_until(lambda n=name: docker(n, "ps", "-aq").stdout.split() == [], 30, f"no workers left on {name}", 2)
