"""The worker roster against a real Locust master runner: who joined, from which host, who was lost."""

import json

from locust import User, task
from locust.env import Environment
from locust.runners import STATE_MISSING, WorkerNode

from loadtest.summary import to_markdown
from loadtest.workers import Roster, host_of


class Idle(User):
    @task
    def nothing(self):
        pass


def test_host_is_the_hostname_part_of_the_locust_id():
    assert host_of("hostb_0123abcd") == "hostb"
    assert host_of("my_host_0123abcd") == "my_host"
    assert host_of("plain") == "plain"


def test_lost_workers_are_told_apart_from_the_ones_that_finished(tmp_path):
    runner = Environment(user_classes=[Idle]).create_master_runner("127.0.0.1", 0)
    try:
        ids = ["hostb_1", "hostb_2", "hostc_1", "hostc_2"]
        for cid in ids:
            runner.clients[cid] = WorkerNode(cid)
        clock = iter(range(100, 200)).__next__
        roster = Roster(runner, tmp_path / "locust_workers.json", clock=clock)
        roster.start()
        for cid in ids:
            roster.seen(cid)
        runner.clients["hostc_1"].state = STATE_MISSING  # no heartbeat for 3 s
        del runner.clients["hostc_2"]  # quit
        roster.stopping()
    finally:
        runner.quit()
    out = json.loads((tmp_path / "locust_workers.json").read_text())
    assert out["hosts"] == ["hostb", "hostc"] and out["lost"] == 2
    assert {w["id"]: w["state"] for w in out["workers"]} == {
        "hostb_1": "running", "hostb_2": "running", "hostc_1": "missing", "hostc_2": "gone"}
    assert all(w["last_heartbeat"] > w["joined"] for w in out["workers"])


def test_summary_lists_each_worker_and_flags_the_lost(tmp_path):
    workers = {"workers": [
        {"id": "hostb_1", "host": "hostb", "joined": 0, "last_heartbeat": 60, "state": "running", "lost": False},
        {"id": "hostc_1", "host": "hostc", "joined": 0, "last_heartbeat": 30, "state": "gone", "lost": True}],
        "hosts": ["hostb", "hostc"], "lost": 1}
    summary = {"run": "r", "valid": True, "reason": None, "users_reached": 10, "requests": 5, "failures": 0,
               "error_pct": 0.0, "rps_mean": 1.0, "rps_max": 1.0, "latency_ms": dict.fromkeys("ab", 1.0),
               "endpoints": [], "failure_kinds": [], "quality": None, "workers": workers,
               "generator": {"cpu_max_pct": 1.0, "cpu_mean_pct": 1.0, "workers": 2, "samples": 3}}
    md = to_markdown(summary)
    assert "Workers: 2 on hostb, hostc; lost before the end: 1." in md
    assert "| hostc_1 | hostc | LOST: gone |" in md and "| hostb_1 | hostb | running |" in md
