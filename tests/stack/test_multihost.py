"""Locust across hosts: the master and the stack on the main engine, published on 10.200.0.1; two workers on each
of two other Docker engines (nodes hostb and hostc) from docker-compose-locust-workers.yaml, with only that address
to reach. hostc's workers go mid-run (one killed as if its host died, one stopped): the run goes on with hostb's,
and the summary says which were lost.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
from compose import ROOT, Compose, wait_until
from nodes import HOST_IP, docker, nodes

from labtools import free_port

LOCUST = ("docker-compose-locust.yaml",)
WORKERS = "docker-compose-locust-workers.yaml"
IMAGE = "capacity-lab-locust:latest"
RUN_ID = "ci-multihost"


def workers(name: str, env: dict, *args: str, timeout: float = 120):
    return docker(name, "compose", "-f", WORKERS, *args, env={**env, "LOCUST_WORKER_HOSTNAME": name},
                  timeout=timeout)


@pytest.fixture(scope="module")
def lab(stack: Compose):
    """The stack's lb republished on 10.200.0.1 (the address the nodes reach), and the nodes with the Locust image."""
    stack.run("build", "master", files=LOCUST, timeout=900)
    with nodes(("hostb", "hostc"), (IMAGE,)):
        stack.run("up", "-d", "--no-deps", "--force-recreate", "--wait", "lb", env={"HOST_BIND": HOST_IP})
        try:
            yield stack
        finally:
            stack.run("down", "--remove-orphans", files=LOCUST, check=False, timeout=180)
            stack.run("up", "-d", "--no-deps", "--force-recreate", "--wait", "lb", check=False)


def master_logs(compose: Compose) -> str:
    return compose.run("logs", "--no-color", "master", files=LOCUST, check=False).stdout


def test_workers_on_two_hosts_and_one_host_lost_mid_run(lab: Compose):
    env = {
        **lab.env, "HOST_BIND": HOST_IP, "LOCUST_MASTER_HOST": HOST_IP, "LOCUST_MASTER_NODE_PORT": str(free_port()),
        "LOCUST_HOST": f"http://{HOST_IP}:{lab.env['API_PORT']}", "RUN_ID": RUN_ID, "LOCUST_HEADLESS": "true",
        "LOCUST_USERS": "40", "LOCUST_SPAWN_RATE": "20", "LOCUST_RUN_TIME": "70s", "LOCUST_EXPECT_WORKERS": "4",
        "LOCUST_WORKERS": "2",
    }
    results = ROOT / "results" / RUN_ID
    shutil.rmtree(results, ignore_errors=True)  # the generator samples of an earlier run would be appended to
    lab.run("up", "-d", "--no-build", "master", files=LOCUST, env=env)
    for host in ("hostb", "hostc"):
        workers(host, env, "up", "-d", "--no-build")
    started = time.monotonic()
    wait_until(lambda: "Sending spawn jobs" in master_logs(lab), 120, "all four workers joined, users spawned", 2)
    time.sleep(30)  # every worker has sent CPU samples (every 10 s) before hostc goes away
    first, *_ = docker("hostc", "ps", "-q", "--filter", "label=com.docker.compose.service=worker").stdout.split()
    docker("hostc", "kill", first)  # as if its host died: no goodbye, only missing heartbeats
    workers("hostc", env, "stop", "--timeout", "20")  # the other one is told to stop: it quits
    (master,) = lab.run("ps", "-q", "-a", "master", files=LOCUST).stdout.split()
    code = docker(None, "wait", master, timeout=180).stdout.strip()
    logs = master_logs(lab)
    print(f"multi-host run: {time.monotonic() - started:.0f} s from workers up to master exit")
    assert code == "0", logs[-4000:]

    summary = json.loads((results / "summary.json").read_text())
    assert summary["failures"] == 0 and summary["requests"] > 200, summary
    assert summary["generator"]["workers"] == 4, summary["generator"]  # CPU samples from all four workers
    roster = summary["workers"]
    assert roster["hosts"] == ["hostb", "hostc"] and len(roster["workers"]) == 4, roster
    assert {(w["host"], w["lost"]) for w in roster["workers"]} == {("hostb", False), ("hostc", True)}, roster
    assert roster["lost"] == 2
    print("multi-host roster:", [(w["host"], w["state"]) for w in roster["workers"]],
          f"{summary['requests']} requests, {summary['failures']} failures")
    assert "lost before the end: 2" in (results / "summary.md").read_text()
