"""Real headless Locust (a master and one worker, 200 users, ~15 s) against the real API process.

Zero failures, Locust's CSV files and HTML report written, our generator samples recorded, and the summary
written by the master at exit and parsed again here.
"""

import json
import sys
import time
from pathlib import Path

import pytest

from labtools import free_port, spawn
from loadtest.summary import summarize

LOCUSTFILE = Path(__file__).resolve().parents[1] / "locust" / "locustfile.py"
USERS, RUN_TIME_S = 200, 15


def _locust(*args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *args]


def _wait(managed, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while managed.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    if managed.proc.poll() is None:
        managed.stop()
        raise AssertionError(f"locust {managed.pid} still running after {timeout:.0f}s\n{managed.log_tail()}")
    return managed.proc.returncode


@pytest.mark.integration
def test_headless_run_against_the_real_api(api_server, tmp_path):
    results = tmp_path / "results" / "it-run"
    results.mkdir(parents=True)
    port = free_port()
    env = {"LOCUST_SHAPE": "none", "LOCUST_HOST": api_server.base_url}
    master = spawn(
        _locust("--master", "--headless", "-u", str(USERS), "-r", "100", "-t", f"{RUN_TIME_S}s",
                "--expect-workers", "1", "--expect-workers-max-wait", "60",
                "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                "--csv", str(results / "locust"), "--csv-full-history", "--html", str(results / "report.html")),
        results / "master.log", env=env, cwd=tmp_path)
    worker = spawn(_locust("--worker", "--master-host", "127.0.0.1", "--master-port", str(port)),
                   tmp_path / "worker.log", env=env, cwd=tmp_path)
    try:
        code = _wait(master, RUN_TIME_S + 90)
        _wait(worker, 30)
    finally:
        master.stop()
        worker.stop()
    assert code == 0, master.log_tail()

    for name in ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "report.html",
                 "locust_generator.csv", "locust_generator.json", "summary.json", "summary.md"):
        assert (results / name).is_file(), name
    written = json.loads((results / "summary.json").read_text())
    summary = summarize(results)
    assert written["requests"] == summary["requests"] > 0
    assert summary["failures"] == 0 and summary["failure_kinds"] == []
    assert summary["users_reached"] == USERS
    assert {e["name"] for e in summary["endpoints"]} >= {"/predict [natural]", "/predict [legacy]"}
    assert summary["quality"]["checked"] > 0 and summary["quality"]["accuracy"] > 0.9
    assert summary["generator"]["samples"] >= 1 and summary["generator"]["workers"] == 1
    print(json.dumps({k: summary[k] for k in ("valid", "reason", "rps_mean", "latency_ms")}))
