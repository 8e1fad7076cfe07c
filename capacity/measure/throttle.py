"""CFS throttling of the api containers (docker backend), read from the samples in throttle.csv.

The docker backend samples their cgroup's cpu.stat while a ramp or a find cell runs (backends/docker/throttle.py).

Below ~0.25 core a CPU quota inflates tail latency through throttling (100 ms periods), so every measurement
records it: `throttle.csv` in the cell folder, one row per api container per sample (cumulative nr_periods and
nr_throttled); a step's share is sum(throttled) / sum(periods) between its first and last sample. The native
backend pins whole cores with taskset (no quota): nothing to record there.
"""

from __future__ import annotations

import csv
from pathlib import Path

from capacity.core.samples import THROTTLE_CSV


def read_throttle(cell_dir: Path) -> list[dict]:
    path = cell_dir / THROTTLE_CSV
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{"timestamp": float(r["timestamp"]), "container": r["container"], "nr_periods": int(r["nr_periods"]),
                 "nr_throttled": int(r["nr_throttled"])} for r in csv.DictReader(f)]


def throttled_share(rows: list[dict], t_start: float, t_end: float) -> float | None:
    """Throttled periods / periods over the window, summed over the containers sampled in it."""
    periods = throttled = 0
    for cid in {r["container"] for r in rows}:
        mine = [r for r in rows if r["container"] == cid and t_start <= r["timestamp"] <= t_end + 1]
        if len(mine) >= 2:
            periods += mine[-1]["nr_periods"] - mine[0]["nr_periods"]
            throttled += mine[-1]["nr_throttled"] - mine[0]["nr_throttled"]
    return round(throttled / periods, 3) if periods > 0 else None
