"""The stack on a 3-node Docker Swarm from the generated docker-stack.yaml: the main engine (manager, 10.200.0.1)
and two node engines (hostb, hostc). Trained from nothing, api replicas on several nodes behind the lb, then scaled
2 -> 4 and given a new CPU limit (a rolling update) under Locust load without one failed request.

Independent of the Compose stack of the other tests (its own stack name and ports); the main engine leaves the
swarm at the end, also after a failure.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from compose import ROOT, wait_until
from nodes import docker, docker_host, node, nodes

from labtools import free_port

STACK = "labci"
NODES = ("hostb", "hostc")
ROW = {"bill_length_mm": 46.1, "bill_depth_mm": 13.2, "flipper_length_mm": 211.0, "body_mass_g": 4500.0,
       "year": 2007, "island": "Biscoe", "sex": "female"}


def main(*args: str, timeout: float = 120, env: dict | None = None) -> str:
    return docker(None, *args, timeout=timeout, env=env).stdout


class Swarm:
    def __init__(self) -> None:
        self.env = {"API_PORT": str(free_port()), "MLFLOW_PORT": str(free_port()), "API_REPLICAS": "2",
                    "API_CPUS": "1.0", "API_MEMORY": "512M", "MODEL_RELOAD_INTERVAL_S": "5"}
        self.url = f"http://127.0.0.1:{self.env['API_PORT']}"

    def deploy(self, **knobs: str) -> None:
        self.env.update(knobs)
        main("stack", "deploy", "--resolve-image", "never", "--detach=true", "-c", "docker-stack.yaml", STACK,
             env=self.env, timeout=180)

    def states(self, service: str) -> list[str]:
        out = main("service", "ps", "--no-trunc", "--format", "{{.DesiredState}} {{.CurrentState}}",
                   f"{STACK}_{service}")
        return [line for line in out.splitlines() if line]

    def api_tasks(self) -> list[dict]:
        """Api tasks meant to run: id, node id (None while a task waits to be placed, e.g. in a rolling update),
        address on the stack's network, CPU limit."""
        ids = main("service", "ps", "-q", "--filter", "desired-state=running", f"{STACK}_api").split()
        if not ids:
            return []
        tasks = json.loads(main("inspect", *ids))
        return [{"id": t["ID"], "node": t.get("NodeID"), "state": t["Status"]["State"],
                 "cpus": t["Spec"]["Resources"]["Limits"].get("NanoCPUs"),
                 "ips": [a.split("/")[0] for n in t.get("NetworksAttachments", []) for a in n["Addresses"]]}
                for t in tasks]

    def converged(self, replicas: int, nano_cpus: int) -> bool:
        tasks = self.api_tasks()
        status = main("service", "inspect", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}",
                      f"{STACK}_api").strip()
        return (status in ("", "completed") and len(tasks) == replicas
                and all(t["state"] == "running" and t["cpus"] == nano_cpus for t in tasks))


def predict(url: str) -> tuple[int, str]:
    req = urllib.request.Request(f"{url}/predict", data=json.dumps(ROW).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers.get("X-Upstream", "")
    except OSError as exc:
        return 0, str(exc)


@pytest.fixture(scope="module")
def swarm():
    if main("info", "--format", "{{.Swarm.LocalNodeState}}").strip() != "inactive":
        pytest.fail("the main engine is already in a swarm: this test makes it a manager and leaves at the end")
    subprocess.run(["docker", "compose", "build", "mlflow", "trainer", "api"], cwd=ROOT, check=True,
                   capture_output=True, timeout=1200)
    config = subprocess.run(["docker", "compose", "config", "--format", "json"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    image = json.loads(config)["services"]["api"]["image"]
    lab = Swarm()
    started = time.monotonic()
    with nodes(NODES, (image,)):
        try:
            for name in NODES:
                node("swarm", name)
            lab.deploy()
            yield lab
        finally:
            print(f"swarm test: {time.monotonic() - started:.0f} s with the nodes up")
            docker(None, "stack", "rm", STACK, check=False)
            wait_until(lambda: not main("ps", "-aq", "--filter", f"label=com.docker.stack.namespace={STACK}"),
                       120, "stack containers removed", 2)
            docker(None, "swarm", "leave", "--force", check=False, timeout=60)
            for volume in ("postgres-data", "minio-data"):
                docker(None, "volume", "rm", f"{STACK}_{volume}", check=False)


def test_trained_and_served_by_replicas_on_several_nodes(swarm: Swarm):
    wait_until(lambda: any("Complete" in s for s in swarm.states("trainer")), 600, "the trainer completed", 5)
    wait_until(lambda: swarm.converged(2, int(1e9)), 300, "two api replicas running", 3)
    tasks = swarm.api_tasks()
    assert len({t["node"] for t in tasks}) == 2, tasks  # spread: one replica on each of two nodes
    wait_until(lambda: predict(swarm.url)[0] == 200, 180, "a prediction through the lb", 2)
    node_of = {ip: t["node"] for t in tasks for ip in t["ips"]}
    # A replica on another node can be unreachable for its first seconds while the overlay network converges
    # (CI, 2026-11-30: 40 requests in a row all answered on the lb's node); nginx retries those on the other
    # replica. Every answer must be a 200; both nodes must answer within 90 s (at most 900 requests).
    answered, sent, started = set(), 0, time.monotonic()
    while answered != {t["node"] for t in tasks} and sent < 900 and time.monotonic() - started < 90:
        status, upstream = predict(swarm.url)
        sent += 1
        assert status == 200, upstream
        answered.add(node_of.get(upstream.split(":")[0]))
        time.sleep(0.1)
    if answered != {t["node"] for t in tasks}:
        logs = docker(None, "service", "logs", "--tail", "30", f"{STACK}_lb", check=False)
        pytest.fail(f"answered on {answered} of {tasks} after {sent} predictions; lb's log:\n"
                    f"{logs.stdout}{logs.stderr}")
    print(f"swarm: 2 api replicas on {len(answered)} nodes; both answered through the lb after {sent} predictions"
          f" ({time.monotonic() - started:.1f} s)")


def test_scale_and_cpu_limit_under_load_lose_nothing(swarm: Swarm, tmp_path: Path):
    wait_until(lambda: swarm.converged(2, int(1e9)), 300, "two api replicas running", 3)
    cmd = [str(ROOT / ".venv/bin/locust"), "-f", str(ROOT / "locust/locustfile.py"), "--headless", "-u", "30",
           "-r", "10", "-t", "600s", "--host", swarm.url, "--csv", str(tmp_path / "locust"), "--only-summary"]
    log = open(tmp_path / "locust.log", "wb")
    locust = subprocess.Popen(cmd, cwd=ROOT / "locust", stdout=log, stderr=subprocess.STDOUT,
                              env={**os.environ, "LOCUST_API_SERVICE": "", "LOCUST_LB_STATUS_URL": ""})
    started = time.monotonic()
    try:
        time.sleep(15)
        swarm.deploy(API_REPLICAS="4")
        wait_until(lambda: swarm.converged(4, int(1e9)), 300, "four api replicas running", 3)
        swarm.deploy(API_CPUS="0.5")  # a rolling update: one replica at a time, the new one first
        wait_until(lambda: swarm.converged(4, int(0.5e9)), 600, "every replica at 0.5 CPU", 3)
        # Spread is a preference: a start-first rolling update counts the old task on its node while placing the
        # new one, so 4 replicas can end 2+2 on the workers (CI, 2026-11-30). At least 2 nodes is the promise.
        assert len({t["node"] for t in swarm.api_tasks()}) >= 2
        time.sleep(10)
        assert locust.poll() is None, "Locust ended before the last change"
    finally:
        locust.send_signal(signal.SIGTERM)  # Locust stops its users and writes its CSV files
        locust.wait(120)
        log.close()
    print(f"swarm load: {time.monotonic() - started:.0f} s under load")
    with open(tmp_path / "locust_stats.csv", newline="") as f:
        total = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    print(f"swarm load: {total['Request Count']} requests, {total['Failure Count']} failures")
    assert int(total["Request Count"]) > 500, total
    assert int(total["Failure Count"]) == 0, (tmp_path / "locust.log").read_text()[-4000:]


SWEEP_GRID = """
name = "swarm-ci"
description = "one short cell through `python -m capacity sweep --backend swarm`"
[grid]
cpus = [0.25]
memory = ["384M"]
replicas = [2]
[load]
users = 60
spawn_rate = 30
duration = "20s"
wait_min = 0.5
wait_max = 1.0
workers = 1
[slo]
p95_ms = 5000
[lb]   # the stack's own lb limits: an lb update would stop nginx for a moment
cpus = 1.0
memory = "256M"
"""


def capacity(swarm: Swarm, *args: str, timeout: float, **env: str) -> subprocess.CompletedProcess:
    """`python -m capacity ARGS --backend swarm` against this test's stack, sampling both worker nodes."""
    endpoints = [a for name in NODES for a in ("--node-endpoint", docker_host(name))]
    return subprocess.run([str(ROOT / ".venv/bin/python"), "-m", "capacity", *args, "--backend", "swarm",
                           *endpoints, "--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "API_PORT": swarm.env["API_PORT"], **env})


def test_capacity_sweep_updates_the_service_and_samples_every_node(swarm: Swarm, tmp_path: Path):
    wait_until(lambda: swarm.states("api") and main("service", "inspect", "--format", "{{if .UpdateStatus}}"
               "{{.UpdateStatus.State}}{{end}}", f"{STACK}_api").strip() in ("", "completed"), 600, "api settled", 3)
    wait_until(lambda: predict(swarm.url)[0] == 200, 600, "a prediction through the lb (trained)", 3)
    before = sorted(t["cpus"] for t in swarm.api_tasks())
    bad = capacity(swarm, "sweep", "capacity/grids/smoke.toml", "--stack", "nosuch", timeout=120)
    assert bad.returncode == 2 and "no stack nosuch" in bad.stderr, bad.stderr
    worker = capacity(swarm, "sweep", "capacity/grids/smoke.toml", "--stack", STACK, timeout=120,
                      DOCKER_HOST=docker_host(NODES[0]))  # a Swarm worker's engine, not the manager
    assert worker.returncode == 2 and "not a Swarm manager" in worker.stderr, worker.stderr
    grid = tmp_path / "swarm.toml"
    grid.write_text(SWEEP_GRID)
    out = ROOT / "results" / f".swarm-test-{os.getpid()}"
    # A second, independent Locust: it sees the rolling update to the cell's limits and back (close()).
    cmd = [str(ROOT / ".venv/bin/locust"), "-f", str(ROOT / "locust/locustfile.py"), "--headless", "-u", "10",
           "-r", "5", "-t", "900s", "--host", swarm.url, "--csv", str(tmp_path / "roll"), "--only-summary"]
    log = open(tmp_path / "roll.log", "wb")
    roll = subprocess.Popen(cmd, cwd=ROOT / "locust", stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "LOCUST_API_SERVICE": "", "LOCUST_LB_STATUS_URL": ""})
    try:
        time.sleep(5)
        run = capacity(swarm, "sweep", str(grid), "--stack", STACK, "--out", str(out), timeout=1500)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert roll.poll() is None, "the rolling-update Locust ended early"
    finally:
        roll.send_signal(signal.SIGTERM)
        roll.wait(120)
        log.close()
    try:
        cell_dir = out / "cpu0.25-mem384M-x2-p1"
        record = json.loads((cell_dir / "cell.json").read_text())
        metrics = record["metrics"]
        print(f"swarm sweep: {record['status']} in {record['wall_s']} s, {metrics['requests']} requests, "
              f"{metrics['failures']} failures, api CPU peak {metrics['api_cpu_peak_pct']} %")
        assert record["backend"] == "swarm" and metrics["error"] is None, record
        assert metrics["requests"] > 100 and metrics["failures"] == 0 and metrics["restarts"] == 0, metrics
        with open(cell_dir / "resources.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        api = [r for r in rows if r["role"] == "api"]
        per_node = {n: sum(r["node"] == n for r in api) for n in sorted({r["node"] for r in api})}
        print(f"swarm sweep: api samples per node {per_node}")
        assert len(per_node) >= 2, per_node
        assert {int(r["mem_limit_bytes"]) for r in api} == {384 * 2**20}
        assert any(r["role"] == "lb" for r in rows) and any(r["role"] == "generator" for r in rows)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    assert sorted(t["cpus"] for t in swarm.api_tasks()) == before  # close() restored the stack's knobs
    with open(tmp_path / "roll_stats.csv", newline="") as f:
        total = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    print(f"swarm sweep: during the updates {total['Request Count']} requests, {total['Failure Count']} failures")
    assert int(total["Request Count"]) > 100 and int(total["Failure Count"]) == 0, (tmp_path / "roll.log").read_text()
