"""Was the load generator healthy? A saturated generator measures itself, not the API.

Evidence, any of which makes a run `valid: false`:
- a CPU sample of a Locust process above the threshold (`<prefix>_generator.csv`, written by
  loadtest.telemetry; the same 10 s measurement Locust's own warning uses, and the same "> 90%" rule),
- Locust's own flags at the end of the run (`<prefix>_generator.json`: master or worker CPU warning),
- Locust's warning lines in any `*.log` of the results dir (e.g. `docker compose logs master > master.log`):
  "CPU usage above 90%", "exceeded cpu threshold", "CPU usage was too high", "CPU usage threshold was exceeded".
Only the standard library, so the capacity runner can import it anywhere.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from statistics import fmean

CPU_THRESHOLD_PCT = 90.0
LOG_MARKERS = ("CPU usage above", "exceeded cpu threshold", "CPU usage was too high",
               "CPU usage threshold was exceeded")


def read_samples(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{**r, "cpu_percent": float(r["cpu_percent"]), "user_count": int(r.get("user_count") or 0)}
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


def generator_health(results_dir: Path, prefix: str, threshold: float = CPU_THRESHOLD_PCT) -> dict:
    samples = read_samples(Path(prefix + "_generator.csv"))
    run_file = Path(prefix + "_generator.json")
    run = json.loads(run_file.read_text()) if run_file.exists() else {}
    warnings = log_warnings(results_dir)
    reasons = []
    hot = [s for s in samples if s["cpu_percent"] > threshold]
    if hot:
        worst = max(hot, key=lambda s: s["cpu_percent"])
        reasons.append(f"{len(hot)} CPU sample(s) above {threshold:g}% (max {worst['cpu_percent']:g}% "
                       f"on {worst['role']} {worst['node']})")
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
        **_cpu_stats(samples),
        "locust_cpu_warning": bool(run.get("locust_cpu_warning") or run.get("locust_worker_cpu_warning")),
        "log_warnings": warnings[:10],
        "note": None if samples else "no CPU samples (Locust measures every 10 s; run too short or no --csv?)",
    }


def quality(prefix: str) -> dict | None:
    """Share of checked predictions whose species was the true one (model quality, not an error)."""
    run_file = Path(prefix + "_generator.json")
    if not run_file.exists():
        return None
    run = json.loads(run_file.read_text())
    checked, wrong = int(run.get("checked", 0)), int(run.get("mismatches", 0))
    return {"checked": checked, "mismatches": wrong,
            "accuracy": round(1 - wrong / checked, 4) if checked else None}
