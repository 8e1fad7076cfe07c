"""The shared host-side helpers against real processes, sockets and files."""

from __future__ import annotations

import csv
import http.server
import os
import sys
import threading
import time

import psutil
import pytest

from labtools import (
    CsvAppender,
    TreeMeter,
    answers,
    compose_locust_env,
    free_port,
    locust_env,
    spawn,
    start_server,
    tree_pids,
    tree_rss_bytes,
    wait_http,
)


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_wait_http_returns_on_an_answer_and_times_out_on_a_wrong_status(server):
    wait_http(f"{server}/", timeout=5, times=2, interval=0.01)
    assert answers(f"{server}/") and not answers(f"{server}/missing")
    wait_http(f"{server}/missing", timeout=5, ok=(404,))
    with pytest.raises(TimeoutError, match="HTTP 404"):
        wait_http(f"{server}/missing", timeout=0.3, interval=0.05)


def test_free_port_with_a_free_twin():
    port = free_port(plus=10000)
    assert 0 < port < 55536


def test_spawn_and_stop_end_the_whole_process_group(tmp_path):
    code = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); " \
           "print('started', flush=True); time.sleep(60)"
    managed = spawn([sys.executable, "-c", code], tmp_path / "p.log", env={"EXTRA": "1"})
    deadline = time.monotonic() + 20
    while len(tree_pids(managed.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = tree_pids(managed.pid)
    assert len(pids) == 2 and pids[0] == managed.pid
    assert tree_rss_bytes(managed.pid) > 0
    child = psutil.Process(pids[1])
    managed.stop()
    assert managed.proc.returncode is not None
    _, alive = psutil.wait_procs([child], timeout=10)
    assert not alive
    assert "started" in managed.log_tail()


def test_start_server_stops_what_never_became_ready(tmp_path):
    port = free_port()
    with pytest.raises(RuntimeError, match="sleeper did not become ready"):
        start_server([sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "s.log", port, "/", "sleeper",
                     timeout=0.5)


def test_tree_meter_sees_this_process_work():
    meter = TreeMeter(os.getpid())
    assert meter.sample()[0] == 0.0
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    cpu, rss = meter.sample()
    assert cpu > 0 and rss > 10 * 2**20


def test_csv_appender_writes_the_header_once(tmp_path):
    path = tmp_path / "rows.csv"
    with CsvAppender(path, ("a", "b")) as out:
        out.write([{"a": 1, "b": 2, "ignored": 3}])
    with CsvAppender(path, ("a", "b")) as out:
        out.write([{"a": 4, "b": 5}])
    with open(path, newline="") as f:
        assert list(csv.DictReader(f)) == [{"a": "1", "b": "2"}, {"a": "4", "b": "5"}]


def test_locust_env_names_and_formats():
    assert locust_env(users=10, spawn_rate=2.5, run_time="30s", wait_min=0.5, shape="none") == {
        "LOCUST_HEADLESS": "true", "LOCUST_USERS": "10", "LOCUST_SPAWN_RATE": "2.5", "LOCUST_RUN_TIME": "30s",
        "LOCUST_WAIT_MIN": "0.5", "LOCUST_SHAPE": "none"}
    env = compose_locust_env("run-1", 3, users=5)
    assert env["RUN_ID"] == "run-1" and env["LOCUST_WORKERS"] == env["LOCUST_EXPECT_WORKERS"] == "3"
    assert env["LOCUST_USERS"] == "5" and env["LOCUST_HEADLESS"] == "true"
