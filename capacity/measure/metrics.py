"""One cell's numbers: Locust's summary (loadtest.summary, reused as is) plus our resource samples.

Both backends write `resources.csv` in the cell folder, one row per process or container per sample:
timestamp, role (api | lb | generator), name, cpu_pct (% of one core), mem_bytes, mem_limit_bytes, and node (the
Swarm node that ran the container; empty on one machine).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from statistics import fmean

from capacity.core.records import CellEvents, CellMetrics
from loadtest import summary as loadtest_summary

MIB = 1024**2


def locust_summary(cell_dir: Path, cpu_threshold: float) -> dict:
    """Locust's CSV files in `cell_dir` -> the project's run summary (throughput, latency, generator health)."""
    return loadtest_summary.summarize(cell_dir, cpu_threshold)


def _role_stats(samples: list[dict], role: str) -> dict:
    """CPU summed over the role's replicas per sample (peak, mean); memory peak of a single replica."""
    mine = [s for s in samples if s["role"] == role]
    per_tick: dict[float, float] = defaultdict(float)
    for s in mine:
        per_tick[s["timestamp"]] += s["cpu_pct"]
    return {
        "cpu_peak_pct": round(max(per_tick.values()), 1) if per_tick else None,
        "cpu_mean_pct": round(fmean(per_tick.values()), 1) if per_tick else None,
        "mem_peak_mb": round(max(s["mem_bytes"] for s in mine) / MIB, 1) if mine else None,
        "single_cpu_peak_pct": round(max(s["cpu_pct"] for s in mine), 1) if mine else None,
    }


def resource_peaks(samples: list[dict]) -> dict:
    api, lb, gen = (_role_stats(samples, r) for r in ("api", "lb", "generator"))
    return {
        "api_cpu_peak_pct": api["cpu_peak_pct"], "api_cpu_mean_pct": api["cpu_mean_pct"],
        "api_mem_peak_mb": api["mem_peak_mb"],
        "lb_cpu_peak_pct": lb["cpu_peak_pct"], "lb_mem_peak_mb": lb["mem_peak_mb"],
        # Per generator process/container: one Locust process is one core at most.
        "generator_cpu_sampled_pct": gen["single_cpu_peak_pct"],
        "samples": len({s["timestamp"] for s in samples}),
    }


def _first(*values):
    return next((v for v in values if v is not None), None)


def cell_metrics(summary: dict | None, samples: list[dict], events: CellEvents,
                 cost: dict | None = None) -> CellMetrics:
    """The flat record judged by measure/slo.py and tabulated by report/sweep.py. `summary` is None when the
    generator wrote nothing; `cost` is measure/cost.py's cell_cost (docker backend)."""
    peaks = resource_peaks(samples)
    out = {**peaks, **(cost or {}), "oom_killed": events.oom_killed, "restarts": events.restarts,
           "api_started": events.api_started,
           "error": events.error, "generator_error": events.generator_error,
           "events": events.notes, "generator_hosts": events.generator_hosts}
    if summary is None:
        return CellMetrics(**out, generator_cpu_peak_pct=peaks["generator_cpu_sampled_pct"])
    lat, gen = summary["latency_ms"], summary["generator"]
    duration = summary.get("duration_s") or 0
    return CellMetrics(
        **out,
        requests=summary["requests"], failures=summary["failures"], error_pct=summary["error_pct"],
        failures_per_s=round(summary["failures"] / duration, 3) if duration else 0.0,
        rps_mean=summary["rps_mean"], rps_max=summary["rps_max"],
        latency_mean_ms=lat["avg"], p50_ms=lat["p50"], p95_ms=lat["p95"], p99_ms=lat["p99"],
        max_ms=lat["max"], users_reached=summary["users_reached"], duration_s=duration,
        generator_valid=bool(summary["valid"]), generator_reason=summary["reason"],
        # Per event loop (a Locust process, a wrk thread) from the generator's own telemetry when it has one: a
        # container's docker stats add up its loops (measure/steps.step_resources).
        generator_cpu_peak_pct=_first(gen.get("cpu_max_pct"), peaks["generator_cpu_sampled_pct"]),
        failure_kinds=summary.get("failure_kinds", [])[:10],
        quality=summary.get("quality"),
    )
