"""Was the load generator healthy? A saturated generator measures itself, not the API.

The rules live in loadtest.validity (shared with the web UI's Capacity tab and the capacity runner); this
module feeds it a finished run's files. Evidence, any of which makes a run `valid: false`:
- delivered load below the offered load (Little's law, over the part of the run at its highest user count),
- a Locust process above the CPU threshold in any 10 s sample (`<prefix>_generator.csv`, written by
  loadtest.telemetry; the same measurement Locust's own warning uses, and the same "> 90%" rule), or waiting
  for a CPU more than the run-queue threshold on average while it had users,
- Locust's own flags at the end of the run (`<prefix>_generator.json`: master or worker CPU warning),
- Locust's warning lines in any `*.log` of the results dir (e.g. `docker compose logs master > master.log`):
  "CPU usage above 90%", "exceeded cpu threshold", "CPU usage was too high", "CPU usage threshold was exceeded".
Only the standard library, so the capacity runner can import it anywhere.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path
from statistics import fmean

from loadtest.validity import Generator, Load, Thresholds, judge

CPU_THRESHOLD_PCT = Thresholds.max_cpu_pct
LOG_MARKERS = ("CPU usage above", "exceeded cpu threshold", "CPU usage was too high",
               "CPU usage threshold was exceeded")


def read_samples(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{**r, "cpu_percent": float(r["cpu_percent"]), "user_count": int(r.get("user_count") or 0),
                 "runqueue_pct": float(r["runqueue_pct"]) if r.get("runqueue_pct") else None}
                for r in csv.DictReader(f)]


def log_warnings(results_dir: Path) -> list[str]:
    lines = []
    for log in sorted(results_dir.glob("*.log")):
        with open(log, errors="replace") as f:
            lines += [line.strip() for line in f if any(m in line for m in LOG_MARKERS)]
    return lines


def _cpu_stats(samples: list[dict]) -> dict:
    busy = [s["cpu_percent"] for s in samples if s["role"] != "master"]
    return {
        "samples": len(samples),
        "workers": len({s["node"] for s in samples if s["role"] == "worker"}),
        "cpu_max_pct": max((s["cpu_percent"] for s in samples), default=None),
        "cpu_mean_pct": round(fmean(busy), 1) if busy else None,
    }


def generators(samples: list[dict]) -> list[Generator]:
    """One Generator per Locust process: its highest CPU sample, its mean run-queue wait while it had users."""
    nodes: dict[str, list[dict]] = {}
    for s in samples:
        nodes.setdefault(s["node"], []).append(s)
    out, workers = [], 0
    for node, rows in nodes.items():
        role = rows[0]["role"]
        workers += role == "worker"
        busy = [r["runqueue_pct"] for r in rows if r["runqueue_pct"] is not None and r["user_count"] > 0]
        out.append(Generator(f"worker {workers} ({node})" if role == "worker" else role,
                             cpu_pct=max(r["cpu_percent"] for r in rows),
                             runqueue_pct=round(fmean(busy), 1) if busy else None, role=role))
    return out


def generator_health(results_dir: Path, prefix: str, threshold: float = CPU_THRESHOLD_PCT,
                     load: Load | None = None, thresholds: Thresholds | None = None) -> dict:
    samples = read_samples(Path(prefix + "_generator.csv"))
    run = run_record(prefix)
    warnings = log_warnings(results_dir)
    limits = replace(thresholds or Thresholds(), max_cpu_pct=threshold)
    verdict = judge(load or Load(0, 0.0, None, 0.0), generators(samples), (), limits)
    reasons = list(verdict.reasons)
    if run.get("locust_cpu_warning"):
        reasons.append("Locust warned: CPU usage above its threshold on the master/local process")
    if run.get("locust_worker_cpu_warning"):
        reasons.append("Locust warned: a worker exceeded its CPU threshold")
    if warnings:
        reasons.append(f"{len(warnings)} Locust CPU warning line(s) in the logs")
    return {
        "valid": not reasons,
        "reason": "; ".join(reasons) or None,
        "cpu_threshold_pct": threshold,
        "runqueue_threshold_pct": limits.max_runqueue_pct,
        **_cpu_stats(samples),
        "verdict": verdict.as_dict(),
        "locust_cpu_warning": bool(run.get("locust_cpu_warning") or run.get("locust_worker_cpu_warning")),
        "log_warnings": warnings[:10],
        "note": None if samples else "no CPU samples (Locust measures every 10 s; run too short or no --csv?)",
    }


def run_record(prefix: str) -> dict:
    """`<prefix>_generator.json`: Locust's warning flags, answer quality, the think time of the run."""
    run_file = Path(prefix + "_generator.json")
    return json.loads(run_file.read_text()) if run_file.exists() else {}


def quality(prefix: str) -> dict | None:
    """Share of checked predictions whose species was the true one (model quality, not an error)."""
    run_file = Path(prefix + "_generator.json")
    if not run_file.exists():
        return None
    run = json.loads(run_file.read_text())
    checked, wrong = int(run.get("checked", 0)), int(run.get("mismatches", 0))
    return {"checked": checked, "mismatches": wrong,
            "accuracy": round(1 - wrong / checked, 4) if checked else None}
