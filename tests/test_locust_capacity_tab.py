"""The Capacity tab's data with real parts: a Locust master with its web UI, one worker, the real API process.

The master scrapes the API's own /metrics (LOCUST_API_SERVICE pointed at its loopback port), the worker reports
its CPU and run-queue wait, and /stats/requests carries the rows and the verdict. No lb here: its row says so.
"""

import json
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from labtools import free_port, spawn, wait_http

LOCUSTFILE = Path(__file__).resolve().parents[1] / "locust" / "locustfile.py"
USERS = 20


def _locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.integration
def test_capacity_tab_shows_the_worker_the_replica_and_a_verdict(api_server, tmp_path):
    web, port = free_port(), free_port()
    api = api_server.base_url.removeprefix("http://")
    env = {"LOCUST_SHAPE": "none", "LOCUST_HOST": api_server.base_url, "LOCUST_API_SERVICE": api,
           "LOCUST_LB_STATUS_URL": f"http://127.0.0.1:{free_port()}/nginx_status", "LOCUST_SCRAPE_INTERVAL_S": "1"}
    master = spawn(_locust("--master", "--web-host", "127.0.0.1", "--web-port", str(web),
                           "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)),
                   tmp_path / "master.log", env=env, cwd=tmp_path)
    worker = spawn(_locust("--worker", "--master-host", "127.0.0.1", "--master-port", str(port)),
                   tmp_path / "worker.log", env=env, cwd=tmp_path)
    ui = f"http://127.0.0.1:{web}"
    try:
        wait_http(f"{ui}/stats/requests", 60, master.proc)
        assert "Capacity" in urllib.request.urlopen(ui, timeout=10).read().decode()
        deadline = time.monotonic() + 60
        while _get(f"{ui}/stats/requests").get("worker_count") != 1 and time.monotonic() < deadline:
            time.sleep(0.5)
        body = urllib.parse.urlencode({"user_count": USERS, "spawn_rate": USERS}).encode()
        assert json.loads(urllib.request.urlopen(f"{ui}/swarm", body, timeout=10).read())["success"]
        data, cap = {}, {}
        while time.monotonic() < deadline:
            data = _get(f"{ui}/stats/requests")
            cap = data.get("capacity", {})
            reps = cap.get("replicas", [])
            workers = cap.get("workers") or [{}]
            if workers[0].get("users") == USERS and reps and reps[0]["rps"] is not None:
                break
            time.sleep(1)
        else:
            raise AssertionError(f"no complete Capacity data in 60 s: {cap}\n{master.log_tail()}")
    finally:
        master.stop()
        worker.stop()
    (replica,) = cap["replicas"]
    assert replica["address"] == api and replica["error"] is None and replica["model_version"]
    assert replica["rss_bytes"] > 0 and replica["rps"] >= 0
    (w,) = cap["workers"]
    assert w["name"] == "worker 1" and w["users"] == USERS and w["cpu_pct"] is not None
    assert w["runqueue_pct"] is not None and cap["master"]["cpu_pct"] is not None
    assert cap["verdict"]["verdict"] in ("VALID", "INVALID") and cap["lb"]["error"]
    rows = data["extended_stats"][0]["data"]
    assert data["extended_stats"][0]["key"] == "capacity"
    assert [r["section"] for r in rows][:2] == ["Verdict", "Load"]
    assert {"Locust worker", "Locust master", "API replica", "Load balancer"} <= {r["section"] for r in rows}
