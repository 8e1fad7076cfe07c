"""Worker CPU samples and mismatch counters travel with the stats report and land in the master's files."""

import json
import time
from types import SimpleNamespace

from locust.event import Events

from loadtest import telemetry
from loadtest.checks import Verdict
from loadtest.health import read_samples
from loadtest.meter import ProcessMeter, Reading, WindowedMeter, hostname


def _node(**kw):
    return SimpleNamespace(user_count=50, cpu_warning_emitted=False, client_id="w1", **kw)


class FakeMeter:
    def __init__(self, *cpu: float) -> None:
        self.readings = iter(Reading(c, 7.5) for c in cpu)

    def read(self) -> Reading:
        return next(self.readings)


def test_worker_samples_reach_the_master_files(tmp_path, monkeypatch):
    # Meters in construction order: worker samples, worker live reading, master samples.
    meters = [FakeMeter(3.0), FakeMeter(12.0), FakeMeter(42.0, 95.5)]
    monkeypatch.setattr(telemetry, "ProcessMeter", meters.pop)
    monkeypatch.setattr(telemetry, "WindowedMeter", meters.pop)
    prefix = str(tmp_path / "locust")
    worker_env, master_env = SimpleNamespace(events=Events()), SimpleNamespace(events=Events())
    exits = []
    telemetry._install_worker(worker_env, _node())
    master = _node(worker_cpu_warning_emitted=True)
    telemetry._install_recorder(master_env, master, prefix, "master", 1.75, at_exit=lambda *a: exits.append(a))

    telemetry.QUALITY.take()
    telemetry.QUALITY.add(Verdict(checked=10, mismatches=1))
    worker_env.events.usage_monitor.fire(environment=worker_env, cpu_usage=0.0, memory_usage=1000)
    worker_env.events.usage_monitor.fire(environment=worker_env, cpu_usage=0.0, memory_usage=2000)
    report: dict = {}
    worker_env.events.report_to_master.fire(client_id="w1", data=report)
    assert report["loadtest"]["now"] == {"host": hostname(), "cpu_pct": 12.0, "runqueue_pct": 7.5, "users": 50}
    master_env.events.worker_report.fire(client_id="w1", data=report)
    master_env.events.worker_report.fire(client_id="w1", data={})  # a report without samples
    master_env.events.usage_monitor.fire(environment=master_env, cpu_usage=0.0, memory_usage=500)
    master_env.events.quitting.fire(environment=master_env)

    samples = read_samples(tmp_path / "locust_generator.csv")
    assert [(s["node"], s["role"], s["cpu_percent"]) for s in samples] == [
        ("w1", "worker", 42.0), ("w1", "worker", 95.5), ("master", "master", 3.0)]
    assert {s["runqueue_pct"] for s in samples} == {7.5}
    run = json.loads((tmp_path / "locust_generator.json").read_text())
    assert run["locust_worker_cpu_warning"] is True and run["workers"] == 1
    assert (run["checked"], run["mismatches"], run["think_time_s"]) == (10, 1, 1.75)
    assert exits == [(telemetry._summary_at_exit, tmp_path)]


def test_process_meter_is_primed_and_reads_the_run_queue():
    meter = ProcessMeter()
    end = time.process_time() + 0.1
    while time.process_time() < end:  # 0.1 s of CPU to measure
        pass
    reading = meter.read()
    assert 0.0 < reading.cpu_pct <= 100.0 * 64
    assert reading.runqueue_pct is not None and 0.0 <= reading.runqueue_pct <= 100.0


def test_run_queue_share_is_the_wait_delta_over_wall_time(tmp_path):
    stat = tmp_path / "schedstat"
    stat.write_text("100 0 5\n")
    meter = ProcessMeter(stat)
    time.sleep(0.2)
    stat.write_text("200 100000000 9\n")  # 0.1 s waited in ~0.2 s of wall time
    assert 30.0 < meter.read().runqueue_pct <= 50.0
    stat.write_text("garbage")
    assert meter.read().runqueue_pct is None


def test_windowed_meter_repeats_its_reading_within_the_window():
    now = [0.0]
    meter = WindowedMeter(10.0, clock=lambda: now[0])
    first = meter.read()
    now[0] = 5.0
    assert meter.read() is first
    now[0] = 10.0
    assert meter.read() is not first
