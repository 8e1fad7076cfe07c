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


def _side(median_value: float | None, values: list[float]) -> str:
    if len(values) < 2:
        return _fmt(median_value)
    return f"{_fmt(median_value)} ({_fmt(min(values))}-{_fmt(max(values))})"


def _cell(pair: Pair, field: str, ok: bool | None) -> str:
    (a, b), (va, vb) = pair.both(field), pair.values(field)
    mark = "" if ok is None else (" ✓" if ok else " ✗")
    return f"{_side(a, va)} / {_side(b, vb)}{mark}"


def _verdicts(pair: Pair) -> str:
    return " / ".join(", ".join(s) for s in pair.statuses)


def write_summary(out: Path, users_list: list[int]) -> list[Pair]:
    found = pairs(out, users_list)
    agreeing = sum(p.agrees for p in found)
    runs = max((max(len(p.locust), len(p.wrk)) for p in found), default=0)
    how = (f"median of up to {runs} runs each (min-max), INVALID runs left out" if runs > 1 else "one run each")
    lines = [f"**{agreeing} of {len(found)} cell(s) agree** (Locust / wrk, {how}; ✓ within tolerance: req/s 5%, "
             "API CPU per request 10%, p50 and p95 20% or 10 ms)", "",
             "| cell | users | delivered req/s | API us/request | lb us/request | p50 ms | p95 ms | p99 ms | "
             "generator CPU % | verdicts |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for p in found:
        checks = p.checks()
        lines.append(f"| {p.label} | {p.users:,} | {_cell(p, 'rps_mean', checks['rps_mean'])} | "
                     f"{_cell(p, 'api_us_per_request', checks['api_us_per_request'])} | "
                     f"{_cell(p, 'lb_us_per_request', None)} | {_cell(p, 'p50_ms', checks['p50_ms'])} | "
                     f"{_cell(p, 'p95_ms', checks['p95_ms'])} | {_cell(p, 'p99_ms', None)} | "
                     f"{_cell(p, 'generator_cpu_peak_pct', None)} | {_verdicts(p)} |")
    lines += ["", "Each row: one cell measured by Locust and by wrk, alternately (each run in its own sweep "
              "folder, `<users>-<generator>/`, repeats in `<users>-<generator>-r<k>/`, wrk first on even repeats). "
              "CPU per request: the container's cgroup usage over the load divided by the requests it counted "
              "(measure/cost.py). Generator CPU: the peak of one event loop, a Locust process or a wrk thread "
              "(one core = 100)."]
    (out / SUMMARY).write_text("\n".join(lines) + "\n")
    records = [{"users": p.users, "cell": p.label, "agrees": p.agrees, "checks": p.checks(),
                "median": {g: dict(zip(FIELDS, v, strict=True)) for g, v in
                           zip(("locust", "wrk"), zip(*(p.both(f) for f in FIELDS), strict=True), strict=True)},
                **{g: [{f: getattr(r.metrics, f) for f in FIELDS} | {"status": r.status, "started_at": r.started_at}
                       for r in runs_] for g, runs_ in (("locust", p.locust), ("wrk", p.wrk))}} for p in found]
    (out / "equivalence.json").write_text(json.dumps(records, indent=2) + "\n")
    return found
