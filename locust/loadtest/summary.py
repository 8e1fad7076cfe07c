"""Summarise one Locust run from its CSV files: throughput, latency, failures, users, generator health.

    python -m loadtest.summary RESULTS_DIR [--cpu-threshold 90]

reads `<prefix>_stats.csv`, `<prefix>_stats_history.csv`, `<prefix>_failures.csv` (Locust's `--csv`
output, with or without `--csv-full-history`) plus our `<prefix>_generator.*`, and writes `summary.json`
and `summary.md` into RESULTS_DIR. Only the standard library: the capacity runner imports it as is.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from statistics import fmean

from loadtest.health import CPU_THRESHOLD_PCT, generator_health, quality, run_record
from loadtest.validity import Load

AGGREGATED = "Aggregated"


def find_prefix(results_dir: Path) -> str:
    stats = [p for p in results_dir.glob("*_stats.csv")]
    if len(stats) != 1:
        raise FileNotFoundError(f"expected one *_stats.csv in {results_dir}, found {len(stats)}")
    return str(stats[0])[: -len("_stats.csv")]


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "N/A") else None
    except ValueError:
        return None


def _endpoint(row: dict[str, str]) -> dict:
    requests, failures = int(row["Request Count"]), int(row["Failure Count"])
    return {
        "type": row["Type"], "name": row["Name"], "requests": requests, "failures": failures,
        "error_pct": round(100 * failures / requests, 3) if requests else 0.0,
        "rps": _num(row["Requests/s"]), "avg_ms": _num(row["Average Response Time"]),
        "p50_ms": _num(row.get("50%")), "p95_ms": _num(row.get("95%")), "p99_ms": _num(row.get("99%")),
        "max_ms": _num(row["Max Response Time"]),
    }


def _history(rows: list[dict[str, str]]) -> dict:
    agg = [r for r in rows if r["Name"] == AGGREGATED]
    busy = [r for r in agg if int(r["User Count"]) > 0]
    rps = [_num(r["Requests/s"]) or 0.0 for r in busy]
    stamps = [int(r["Timestamp"]) for r in agg]
    return {
        "users_reached": max((int(r["User Count"]) for r in agg), default=0),
        "rps_max": max(rps, default=0.0),
        "rps_mean_sampled": round(fmean(rps), 2) if rps else 0.0,
        "duration_s": (stamps[-1] - stamps[0]) if stamps else 0,
        "history_points": len(agg),
    }


def workers(prefix: str) -> dict | None:
    """`<prefix>_workers.json` (loadtest.workers): each worker's host, and whether it was lost before the end."""
    path = Path(prefix + "_workers.json")
    return json.loads(path.read_text()) if path.exists() else None


def steady_load(rows: list[dict[str, str]], think_time_s: float | None) -> Load | None:
    """Users, delivered req/s and mean response time over the rows at the run's highest user count."""
    agg = [r for r in rows if r["Name"] == AGGREGATED]
    top = max((int(r["User Count"]) for r in agg), default=0)
    steady = [r for r in agg if int(r["User Count"]) == top]
    if think_time_s is None or top == 0 or len(steady) < 2:
        return None
    first, last = steady[0], steady[-1]
    seconds = int(last["Timestamp"]) - int(first["Timestamp"])
    count = int(last["Total Request Count"]) - int(first["Total Request Count"])
    if seconds <= 0 or count <= 0:
        return None
    spent_ms = sum(s * int(r["Total Request Count"]) * float(r["Total Average Response Time"])
                   for s, r in ((1, last), (-1, first)))
    return Load(users=top, think_time_s=think_time_s, response_time_s=spent_ms / count / 1000,
                delivered_rps=count / seconds)


def summarize(results_dir: Path, cpu_threshold: float = CPU_THRESHOLD_PCT) -> dict:
    prefix = find_prefix(results_dir)
    stats = [_endpoint(r) for r in _read(Path(prefix + "_stats.csv"))]
    total = next((s for s in stats if s["name"] == AGGREGATED), None)
    if total is None:
        raise ValueError(f"{prefix}_stats.csv has no Aggregated row")
    history_rows = _read(Path(prefix + "_stats_history.csv"))
    history = _history(history_rows)
    failures = [{"method": r["Method"], "name": r["Name"], "error": r["Error"], "occurrences": int(r["Occurrences"])}
                for r in _read(Path(prefix + "_failures.csv"))]
    load = steady_load(history_rows, run_record(prefix).get("think_time_s"))
    generator = generator_health(results_dir, prefix, cpu_threshold, load)
    return {
        "run": results_dir.name,
        "valid": generator["valid"],
        "reason": generator["reason"],
        "requests": total["requests"],
        "failures": total["failures"],
        "error_pct": total["error_pct"],
        "rps_mean": total["rps"],
        "rps_max": history["rps_max"],
        "latency_ms": {k: total[f"{k}_ms"] for k in ("avg", "p50", "p95", "p99", "max")},
        **{k: history[k] for k in ("users_reached", "duration_s", "rps_mean_sampled", "history_points")},
        "endpoints": [s for s in stats if s["name"] != AGGREGATED],
        "failure_kinds": failures,
        "quality": quality(prefix),
        "generator": generator,
        "workers": workers(prefix),
    }


def _fmt(value) -> str:
    return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def to_markdown(s: dict) -> str:
    lat, gen = s["latency_ms"], s["generator"]
    status = "valid" if s["valid"] else f"**NOT VALID**: {s['reason']}"
    lines = [
        f"# Locust run `{s['run']}`", "",
        f"Generator: {status} (CPU max {_fmt(gen['cpu_max_pct'])}%, mean {_fmt(gen['cpu_mean_pct'])}%, "
        f"{gen['workers']} worker(s), {gen['samples']} samples)", "",
        "| users | requests | failures | error % | RPS mean | RPS max | avg ms | p50 | p95 | p99 | max |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| " + " | ".join(_fmt(v) for v in (s["users_reached"], s["requests"], s["failures"], s["error_pct"],
                                           s["rps_mean"], s["rps_max"], *lat.values())) + " |", "",
        "| endpoint | requests | failures | RPS | p50 | p95 | p99 |", "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {e['type']} {e['name']} | {e['requests']} | {e['failures']} | {_fmt(e['rps'])} | "
              f"{_fmt(e['p50_ms'])} | {_fmt(e['p95_ms'])} | {_fmt(e['p99_ms'])} |" for e in s["endpoints"]]
    if s["failure_kinds"]:
        lines += ["", "| failure | occurrences |", "|---|---:|"]
        lines += [f"| {f['method']} {f['name']}: {f['error']} | {f['occurrences']} |" for f in s["failure_kinds"]]
    if w := s.get("workers"):
        lines += ["", f"Workers: {len(w['workers'])} on {', '.join(w['hosts'])}; lost before the end: {w['lost']}.",
                  "", "| worker | host | at the end | last heartbeat |", "|---|---|---|---|"]
        lines += [f"| {r['id']} | {r['host']} | {'LOST: ' if r['lost'] else ''}{r['state']} | "
                  f"{time.strftime('%H:%M:%S', time.gmtime(r['last_heartbeat']))} UTC |" for r in w["workers"]]
    if q := s["quality"]:
        lines += ["", f"Species checked: {q['checked']}, other than the true one: {q['mismatches']} "
                      f"(accuracy {_fmt(q['accuracy'])}; not counted as failures)."]
    return "\n".join(lines) + "\n"


def write_summary(results_dir: Path, cpu_threshold: float = CPU_THRESHOLD_PCT) -> dict:
    summary = summarize(results_dir, cpu_threshold)
    (results_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (results_dir / "summary.md").write_text(to_markdown(summary))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtest.summary", description=__doc__.splitlines()[0])
    parser.add_argument("results_dir", type=Path)
    parser.add_argument("--cpu-threshold", type=float, default=CPU_THRESHOLD_PCT,
                        help="generator CPU %% above which a run is not valid (Locust's own: 90)")
    args = parser.parse_args(argv)
    summary = write_summary(args.results_dir, args.cpu_threshold)
    print(f"{args.results_dir}/summary.json: {summary['requests']} requests, {summary['failures']} failures, "
          f"p95 {_fmt(summary['latency_ms']['p95'])} ms, valid={summary['valid']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
