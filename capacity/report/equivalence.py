"""summary.md and equivalence.json of a Locust-beside-wrk run (search/equivalence.py)."""

from __future__ import annotations

import json
from pathlib import Path

from capacity.search.equivalence import Pair, pairs

SUMMARY = "summary.md"
FIELDS = ("rps_mean", "api_us_per_request", "lb_us_per_request", "p50_ms", "p95_ms", "p99_ms",
          "generator_cpu_peak_pct")


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _cell(pair: Pair, field: str, ok: bool | None) -> str:
    a, b = pair.both(field)
    mark = "" if ok is None else (" ✓" if ok else " ✗")
    return f"{_fmt(a)} / {_fmt(b)}{mark}"


def write_summary(out: Path, users_list: list[int]) -> list[Pair]:
    found = pairs(out, users_list)
    agreeing = sum(p.agrees for p in found)
    lines = [f"**{agreeing} of {len(found)} cell(s) agree** (Locust / wrk; ✓ within tolerance: req/s 5%, API CPU "
             "per request 10%, p50 and p95 20% or 10 ms)", "",
             "| cell | users | delivered req/s | API us/request | lb us/request | p50 ms | p95 ms | p99 ms | "
             "generator CPU % | verdicts |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for p in found:
        checks = p.checks()
        lines.append(f"| {p.label} | {p.users:,} | {_cell(p, 'rps_mean', checks['rps_mean'])} | "
                     f"{_cell(p, 'api_us_per_request', checks['api_us_per_request'])} | "
                     f"{_cell(p, 'lb_us_per_request', None)} | {_cell(p, 'p50_ms', checks['p50_ms'])} | "
                     f"{_cell(p, 'p95_ms', checks['p95_ms'])} | {_cell(p, 'p99_ms', None)} | "
                     f"{_cell(p, 'generator_cpu_peak_pct', None)} | {p.locust.status} / {p.wrk.status} |")
    lines += ["", "Each row: one cell measured by Locust, then by wrk (each in its own sweep folder, "
              "`<users>-<generator>/`). CPU per request: the container's cgroup usage over the load divided by the "
              "requests it counted (measure/cost.py). Generator CPU: Locust's peak per process, wrk's peak per "
              "container (one core = 100)."]
    (out / SUMMARY).write_text("\n".join(lines) + "\n")
    records = [{"users": p.users, "cell": p.label, "agrees": p.agrees, "checks": p.checks(),
                **{g: {f: getattr(r.metrics, f) for f in FIELDS} | {"status": r.status}
                   for g, r in (("locust", p.locust), ("wrk", p.wrk))}} for p in found]
    (out / "equivalence.json").write_text(json.dumps(records, indent=2) + "\n")
    return found
