"""Worker CPU samples and mismatch counters travel with the stats report and land in the master's files."""

import json
import time
from types import SimpleNamespace

from locust.event import Events

from loadtest import telemetry
from loadtest.checks import Verdict
from loadtest.health import read_samples


def _node(**kw):
    return SimpleNamespace(user_count=50, cpu_warning_emitted=False, client_id="w1", **kw)


def test_worker_samples_reach_the_master_files(tmp_path, monkeypatch):
    meters = [iter([3.0]).__next__, iter([42.0, 95.5]).__next__]  # CPU % readings: master, then worker
    monkeypatch.setattr(telemetry, "cpu_meter", meters.pop)
    prefix = str(tmp_path / "locust")
    worker_env, master_env = SimpleNamespace(events=Events()), SimpleNamespace(events=Events())
    exits = []
    telemetry._install_worker(worker_env, _node())
    master = _node(worker_cpu_warning_emitted=True)
    telemetry._install_recorder(master_env, master, prefix, "master", at_exit=lambda *a: exits.append(a))

    telemetry.QUALITY.take()
    telemetry.QUALITY.add(Verdict(checked=10, mismatches=1))
    worker_env.events.usage_monitor.fire(environment=worker_env, cpu_usage=0.0, memory_usage=1000)
    worker_env.events.usage_monitor.fire(environment=worker_env, cpu_usage=0.0, memory_usage=2000)
    report: dict = {}
    worker_env.events.report_to_master.fire(client_id="w1", data=report)
    master_env.events.worker_report.fire(client_id="w1", data=report)
    master_env.events.worker_report.fire(client_id="w1", data={})  # a report without samples
    master_env.events.usage_monitor.fire(environment=master_env, cpu_usage=0.0, memory_usage=500)
    master_env.events.quitting.fire(environment=master_env)

    samples = read_samples(tmp_path / "locust_generator.csv")
    assert [(s["node"], s["role"], s["cpu_percent"]) for s in samples] == [
        ("w1", "worker", 42.0), ("w1", "worker", 95.5), ("master", "master", 3.0)]
    run = json.loads((tmp_path / "locust_generator.json").read_text())
    assert run["locust_worker_cpu_warning"] is True and run["workers"] == 1
    assert (run["checked"], run["mismatches"]) == (10, 1)
    assert exits == [(telemetry._summary_at_exit, tmp_path)]


def test_cpu_meter_is_primed():
    meter = telemetry.cpu_meter()
    end = time.process_time() + 0.1
    while time.process_time() < end:  # 0.1 s of CPU to measure
        pass
    assert 0.0 < meter() <= 100.0 * 64
