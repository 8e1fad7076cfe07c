"""The sample files the backends write in a cell folder and the measurements read: resources.csv, throttle.csv.

One row per process or container per sample: timestamp, role (api | lb | generator), name, cpu_pct (% of one
core), mem_bytes, mem_limit_bytes, and node (the Swarm node that ran the container; empty on one machine).
"""

from __future__ import annotations

import csv
from pathlib import Path

from labtools import CsvAppender

SAMPLE_COLUMNS = ("timestamp", "role", "name", "cpu_pct", "mem_bytes", "mem_limit_bytes", "node")
RESOURCES_CSV = "resources.csv"
# throttle.csv (docker backend): per sample and container (role api | lb | host) its cumulative cgroup CPU usage,
# CFS periods, throttled periods and time, and the requests it had served (when read: twice per cell). Files
# before 2026-12-06 have only timestamp, container, nr_periods, nr_throttled (api containers).
THROTTLE_CSV = "throttle.csv"
THROTTLE_COLUMNS = ("timestamp", "role", "container", "usage_usec", "nr_periods", "nr_throttled", "throttled_usec",
                    "requests")


def sample_writer(path: Path) -> CsvAppender:
    """Appends resource samples to `resources.csv` as they come, so a crash keeps what was measured."""
    return CsvAppender(path, SAMPLE_COLUMNS)


def read_samples(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return [{**r, "timestamp": float(r["timestamp"]), "cpu_pct": float(r["cpu_pct"] or 0),
                 "mem_bytes": int(float(r["mem_bytes"] or 0)),
                 "mem_limit_bytes": int(float(r["mem_limit_bytes"] or 0))} for r in csv.DictReader(f)]
