"""throttle.csv (docker backend, backends/docker/throttle.py): the api replicas' and the lb's cgroup counters
and the host's busy time per sample, read back; CFS throttling share of a window.

Below ~0.25 core a CPU quota inflates tail latency through throttling (100 ms periods), so every measurement
records it; a step's share is sum(throttled) / sum(periods) between its first and last sample. measure/cost.py
turns the same rows into CPU per request. The native backend pins whole cores with taskset (no quota, no
container): nothing to record there.
"""

from __future__ import annotations

import csv
from pathlib import Path

from capacity.core.samples import THROTTLE_CSV


def read_throttle(cell_dir: Path) -> list[dict]:
    """throttle.csv's rows; files written before the CPU columns existed read as api rows without usage."""
    path = cell_dir / THROTTLE_CSV
    if not path.exists():
        return []

    def num(value: str | None) -> int | None:
        return int(value) if value not in (None, "") else None

    with open(path, newline="") as f:
        return [{"timestamp": float(r["timestamp"]), "role": r.get("role") or "api", "container": r["container"],
                 "usage_usec": num(r.get("usage_usec")), "nr_periods": int(r["nr_periods"]),
                 "nr_throttled": int(r["nr_throttled"]), "throttled_usec": num(r.get("throttled_usec")),
                 "requests": num(r.get("requests"))} for r in csv.DictReader(f)]


def throttled_share(rows: list[dict], t_start: float, t_end: float, role: str = "api") -> float | None:
    """Throttled periods / periods over the window, summed over the role's containers sampled in it."""
    periods = throttled = 0
    for cid in {r["container"] for r in rows if r["role"] == role}:
        mine = [r for r in rows if r["container"] == cid and t_start <= r["timestamp"] <= t_end + 1]
        if len(mine) >= 2:
            periods += mine[-1]["nr_periods"] - mine[0]["nr_periods"]
            throttled += mine[-1]["nr_throttled"] - mine[0]["nr_throttled"]
    return round(throttled / periods, 3) if periods > 0 else None
