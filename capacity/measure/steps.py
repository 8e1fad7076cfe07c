"""A ramp run cut into its steps: per step the users, delivered req/s, latency, errors and resources.

One Locust run per configuration walks the ramp shape (+step_users every step_duration); Locust writes one
Aggregated row per second to `locust_stats_history.csv` (cumulative request, failure and mean-latency
counters, and p50/p95/p99 over a rolling window of ~10 s). A step is the rows at that step's user count:
- delivered req/s is Locust's own Requests/s at the step's last row once the step held its user count for
  CURRENT_RPS_WINDOW_S: the master averages the per-second counts its workers stamped over ~10 s, so it does
  not depend on when their reports arrived. The cumulative counters do: the master merges each worker's every
  ~3 s, at different moments, and a window that starts on one worker's report and ends on the other's misses
  a report (2 x 0.25 CPU at 1,000 users read 434 req/s for the ~570 Locust counted, redline 2026-11-30).
  Shorter steps fall back to the counters between the first and the last settled row where a report arrived;
- the mean response time comes from the cumulative counters over that window;
- p50/p95/p99 are the median of the rolling-window values over the settled rows (the first `settle_s` seconds
  at the new user count are left out: their window still holds the spawn);
- errors are the failures counted over the whole step, spawn included;
- API CPU (summed over replicas), peak RSS of one replica and the generator's peak CPU come from the
  resources.csv and locust_generator.csv samples taken while the step ran.
"""

from __future__ import annotations

import csv
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from statistics import median

AGGREGATED = "Aggregated"
CURRENT_RPS_WINDOW_S = 12  # Locust's Requests/s covers the 10 s that end 2 s before its last request
MIB = 1024**2


@dataclass(frozen=True)
class Row:
    t: int  # unix seconds
    users: int
    requests: int  # cumulative
    failures: int  # cumulative
    avg_ms: float  # cumulative mean response time
    p50: float | None  # rolling window
    p95: float | None
    p99: float | None
    rps: float | None = None  # Locust's Requests/s: per-second counts averaged over ~10 s ending ~2 s ago


@dataclass(frozen=True)
class Step:
    users: int
    t_start: int
    t_end: int
    settled_s: int  # seconds of settled rows the rates come from
    delivered_rps: float | None
    response_ms: float | None  # mean over the settled part
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    requests: int
    failures: int
    complete: bool  # ran its whole duration (the last step of a stopped run may not)

    @property
    def error_pct(self) -> float:
        return round(100 * self.failures / self.requests, 3) if self.requests else 0.0


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "N/A") else None
    except ValueError:
        return None


def read_history(path: Path) -> list[Row]:
    """The Aggregated rows of a `*_stats_history.csv` (one per second), in time order."""
    if not path.exists():
        return []
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("Name") == AGGREGATED]
    return [Row(int(r["Timestamp"]), int(r["User Count"]), int(r["Total Request Count"]),
                int(r["Total Failure Count"]), float(r["Total Average Response Time"] or 0),
                _num(r.get("50%")), _num(r.get("95%")), _num(r.get("99%")), _num(r.get("Requests/s")))
            for r in rows]


def history_file(cell_dir: Path) -> Path:
    files = sorted(cell_dir.glob("*_stats_history.csv"))
    return files[0] if files else cell_dir / "locust_stats_history.csv"


def load_window(cell_dir: Path) -> tuple[float | None, float | None]:
    """When the generator's load ran: the second before its first history row to its last row."""
    rows = read_history(history_file(cell_dir))
    return (rows[0].t - 1, rows[-1].t) if rows else (None, None)


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), 1) if present else None


def _rates(first: Row, last: Row) -> tuple[float | None, float | None]:
    """Delivered req/s and mean response time (ms) between two rows, from the cumulative counters."""
    seconds, count = last.t - first.t, last.requests - first.requests
    if seconds <= 0 or count <= 0:
        return None, None
    spent = last.avg_ms * last.requests - first.avg_ms * first.requests
    return round(count / seconds, 2), round(spent / count, 2)


def _reported(rows: list[Row], since: int) -> list[Row]:
    """The rows from `since` at which a report arrived (the cumulative request count moved)."""
    return [b for a, b in itertools.pairwise(rows) if b.t >= since and b.requests != a.requests]


def split_steps(rows: list[Row], step_users: int, step_duration_s: float, settle_s: float = 10.0) -> list[Step]:
    """One Step per user count the ramp reached (spawn rows belong to the step they spawn)."""
    steps: list[Step] = []
    target = step_users
    before = next((r for r in rows if r.users > 0), None)
    while before is not None:
        mine = [r for r in rows if r.t >= before.t and target - step_users < r.users <= target]
        at = [r for r in mine if r.users == target]
        if not at:
            break
        settled = [r for r in at if r.t - at[0].t >= settle_s] or at[-1:]
        anchor = settled[0] if len(settled) > 1 else at[0]
        reports = _reported(at, anchor.t)
        first, last = (reports[0], reports[-1]) if len(reports) > 1 else (anchor, at[-1])
        rps, resp = _rates(first, last)
        if at[-1].t - at[0].t >= CURRENT_RPS_WINDOW_S and at[-1].rps is not None:
            rps = at[-1].rps
        start = _previous(rows, mine[0])
        window = settled if len(settled) > 1 else at
        steps.append(Step(target, mine[0].t, at[-1].t, last.t - first.t, rps, resp,
                          _median([r.p50 for r in window]), _median([r.p95 for r in window]),
                          _median([r.p99 for r in window]), at[-1].requests - start.requests,
                          at[-1].failures - start.failures, at[-1].t - mine[0].t + 1 >= step_duration_s - 2))
        later = [r for r in rows if r.t > at[-1].t and r.users > target]
        before, target = (later[0] if later else None), target + step_users
    return steps


def _previous(rows: list[Row], row: Row) -> Row:
    """The row just before `row` (the counters at the step's start)."""
    earlier = [r for r in rows if r.t < row.t]
    return earlier[-1] if earlier else row


def window_samples(samples: list[dict], t_start: float, t_end: float) -> list[dict]:
    return [s for s in samples if t_start <= s["timestamp"] <= t_end + 1]


def _cores_per_tick(samples: list[dict], role: str) -> list[float]:
    """The role's CPU per sample time, summed over its containers or processes (cores)."""
    per_tick: dict[float, float] = {}
    for s in samples:
        if s["role"] == role:
            per_tick[s["timestamp"]] = per_tick.get(s["timestamp"], 0.0) + s["cpu_pct"] / 100
    return list(per_tick.values())


def step_resources(samples: list[dict], generator_rows: list[dict], t_start: float, t_end: float) -> dict:
    """API CPU (cores, summed over replicas: mean and peak), one replica's peak RSS, the generator's peak CPU %
    and run-queue wait % (share of the time a Locust process waited for a CPU) from its own telemetry, and its
    mean cores (docker stats or /proc, summed over its containers or processes).

    The 90% rule is per event loop: one Locust process, or one wrk thread. The generator's own telemetry has a
    row per event loop, so its peak is judged when present; a container's docker stats sum its loops (wrk's two
    threads at 58% each read 116%, redline 2026-12-06) and count only when there is no telemetry."""
    mine = window_samples(samples, t_start, t_end)
    ticks, gen_ticks = _cores_per_tick(mine, "api"), _cores_per_tick(mine, "generator")
    api_mem = [s["mem_bytes"] for s in mine if s["role"] == "api"]
    telemetry = [g for g in generator_rows if t_start <= float(g["timestamp"]) <= t_end + 1]
    gen = [float(g["cpu_percent"]) for g in telemetry if g.get("cpu_percent") not in (None, "")]
    gen = gen or [s["cpu_pct"] for s in mine if s["role"] == "generator"]
    waits = [float(g["runqueue_pct"]) for g in telemetry if g.get("runqueue_pct") not in (None, "")]
    return {"api_cpu_cores_mean": round(sum(ticks) / len(ticks), 3) if ticks else None,
            "api_cpu_cores_peak": round(max(ticks), 3) if ticks else None,
            "api_mem_peak_mb": round(max(api_mem) / MIB, 1) if api_mem else None,
            "generator_cpu_peak_pct": round(max(gen), 1) if gen else None,
            "generator_runqueue_pct": round(max(waits), 1) if waits else None,
            "generator_cpu_cores_mean": round(sum(gen_ticks) / len(gen_ticks), 3) if gen_ticks else None}


def generator_name(cell_dir: Path) -> str:
    """Which generator wrote the cell's files: its `*_generator.json` says so for wrk; Locust's does not."""
    files = sorted(cell_dir.glob("*_generator.json"))
    if not files:
        return "Locust"
    try:
        return json.loads(files[0].read_text()).get("generator") or "Locust"
    except (OSError, ValueError):
        return "Locust"


def read_generator(cell_dir: Path) -> list[dict]:
    """locust_generator.csv (the locustfile's telemetry: CPU of every Locust process), if any."""
    files = sorted(cell_dir.glob("*_generator.csv"))
    if not files:
        return []
    with open(files[0], newline="") as f:
        return list(csv.DictReader(f))
