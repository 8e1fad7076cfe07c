"""The generator's own CPU samples (`<prefix>_generator.csv`): one row per generator process (or wrk thread) per
sample, the rows loadtest.health and loadtest.validity judge. No Locust import: the wrk image writes them too."""

from __future__ import annotations

import csv
from pathlib import Path

SAMPLE_COLUMNS = ("timestamp", "node", "role", "cpu_percent", "memory_bytes", "user_count", "runqueue_pct")


def append_samples(path: Path, rows: list[dict]) -> None:
    if not rows:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=SAMPLE_COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerows(rows)
