"""Generator health and answer quality, recorded next to Locust's own CSV files.

Every Locust process measures its own CPU and run-queue wait every 10 s (`usage_monitor` event; the CPU
measurement behind Locust's "CPU usage above 90%" warning; see loadtest.meter). A worker queues its samples and
ships them with its regular stats report (`report_to_master`, every 3 s), together with a live reading since
its previous report (`now`: host, CPU, run-queue wait, users) for the Capacity tab (loadtest.capacity_tab); the
master (or a single local process) appends the samples to `<csv prefix>_generator.csv`. The species mismatch
counters travel the same way. At the end the master writes `<prefix>_generator.json` with Locust's own warning
flags, the counters and the think time, and (once Locust has closed its CSV files, i.e. at process exit) the
run summary. Nothing is recorded without `--csv`.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import time
from pathlib import Path

from locust.runners import CPU_WARNING_THRESHOLD, LocalRunner, MasterRunner, WorkerRunner

from loadtest.checks import Verdict
from loadtest.meter import ProcessMeter, Reading, WindowedMeter, hostname
from loadtest.samples import append_samples
from loadtest.settings import Settings

logger = logging.getLogger(__name__)
SAMPLES_SUFFIX = "_generator.csv"
RUN_SUFFIX = "_generator.json"
REPORT_KEY = "loadtest"  # our key in the worker -> master report


class Quality:
    """Predictions checked against the true species, and how many named another species."""

    def __init__(self) -> None:
        self.checked = 0
        self.mismatches = 0

    def add(self, verdict: Verdict) -> None:
        self.checked += verdict.checked
        self.mismatches += verdict.mismatches

    def take(self) -> dict[str, int]:
        out = {"checked": self.checked, "mismatches": self.mismatches}
        self.checked = self.mismatches = 0
        return out


QUALITY = Quality()  # per process; workers ship and reset it with every report


def _sample(node: str, role: str, reading: Reading, memory: int, users: int) -> dict:
    return {"timestamp": round(time.time(), 3), "node": node, "role": role, "cpu_percent": reading.cpu_pct,
            "memory_bytes": int(memory), "user_count": users, "runqueue_pct": reading.runqueue_pct}


def live(reading: Reading, users: int) -> dict:
    """What a worker tells the master about itself right now (the Capacity tab's worker row)."""
    return {"host": hostname(), "cpu_pct": reading.cpu_pct, "runqueue_pct": reading.runqueue_pct, "users": users}


def _install_worker(env, runner: WorkerRunner) -> None:
    pending: list[dict] = []
    # Locust's own monitor starts with psutil's meaningless first 0.0, so its first sample comes only 20 s in;
    # ours measures the same interval (read at each `usage_monitor` event) from the first event on.
    meter, now = ProcessMeter(), WindowedMeter()

    def on_usage(environment, cpu_usage: float, memory_usage: int, **_kw) -> None:
        pending.append(_sample(runner.client_id, "worker", meter.read(), memory_usage, runner.user_count))

    def on_report(client_id: str, data: dict) -> None:
        data[REPORT_KEY] = {"samples": pending[:], "now": live(now.read(), runner.user_count), **QUALITY.take()}
        pending.clear()

    env.events.usage_monitor.add_listener(on_usage)
    env.events.report_to_master.add_listener(on_report)


def _install_recorder(env, runner, prefix: str, role: str, think_time_s: float, at_exit=atexit.register) -> None:
    """Master or local process: write samples as they come, the run record at quitting, summary at exit."""
    samples_path = Path(prefix + SAMPLES_SUFFIX)
    totals, workers = Quality(), set()
    meter = ProcessMeter()

    def on_usage(environment, cpu_usage: float, memory_usage: int, **_kw) -> None:
        append_samples(samples_path, [_sample(role, role, meter.read(), memory_usage, runner.user_count)])

    def on_worker_report(client_id: str, data: dict) -> None:
        workers.add(client_id)
        ours = data.get(REPORT_KEY) or {}
        append_samples(samples_path, ours.get("samples", []))
        totals.checked += ours.get("checked", 0)
        totals.mismatches += ours.get("mismatches", 0)

    def on_quitting(environment, **_kw) -> None:
        local = QUALITY.take()
        record = {
            "cpu_threshold_pct": CPU_WARNING_THRESHOLD,
            "locust_cpu_warning": bool(runner.cpu_warning_emitted),
            "locust_worker_cpu_warning": bool(getattr(runner, "worker_cpu_warning_emitted", False)),
            "workers": len(workers),
            "checked": totals.checked + local["checked"],
            "mismatches": totals.mismatches + local["mismatches"],
            "think_time_s": think_time_s,
        }
        Path(prefix + RUN_SUFFIX).write_text(json.dumps(record, indent=2) + "\n")

    env.events.test_start.add_listener(lambda **_kw: totals.take())  # a new test in the web UI starts at 0
    env.events.usage_monitor.add_listener(on_usage)
    env.events.worker_report.add_listener(on_worker_report)
    env.events.quitting.add_listener(on_quitting)
    at_exit(_summary_at_exit, Path(prefix).parent)


def _summary_at_exit(results_dir: Path) -> None:
    """Locust closes its CSV files just before it exits; only then is the summary complete."""
    from loadtest.summary import write_summary

    try:
        summary = write_summary(results_dir)
        logger.info("summary written to %s (valid: %s)", results_dir, summary["generator"]["valid"])
    except Exception:  # never turn a finished load test into a crash; the CLI can redo it
        logger.exception("could not write the summary in %s", results_dir)


def on_init(environment, runner=None, **_kw) -> None:
    """`events.init` listener: wire the role-specific recorders."""
    if isinstance(runner, WorkerRunner):
        _install_worker(environment, runner)
        return
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if prefix and isinstance(runner, MasterRunner | LocalRunner):
        os.makedirs(os.path.dirname(prefix) or ".", exist_ok=True)
        role = "master" if isinstance(runner, MasterRunner) else "local"
        _install_recorder(environment, runner, prefix, role, Settings().think_time_s)
