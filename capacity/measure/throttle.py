"""CFS throttling of the api containers (docker backend), from their cgroup's cpu.stat, while a cell runs.

Below ~0.25 core a CPU quota inflates tail latency through throttling (100 ms periods), so every measurement
records it: `throttle.csv` in the cell folder, one row per api container per sample (cumulative nr_periods and
nr_throttled); a step's share is sum(throttled) / sum(periods) between its first and last sample. The native
backend pins whole cores with taskset (no quota): nothing to record there.
"""

from __future__ import annotations

import csv
import subprocess
import threading
import time
from pathlib import Path

THROTTLE_CSV = "throttle.csv"
COLUMNS = ("timestamp", "container", "nr_periods", "nr_throttled")
CGROUP = Path("/sys/fs/cgroup")


def cpu_stat(container_id: str) -> dict[str, int] | None:
    """cpu.stat of a container under cgroup v1 or v2 (docker's cgroupfs or systemd drivers), None if unreadable."""
    for path in (CGROUP / "cpu" / "docker" / container_id, CGROUP / "cpu,cpuacct" / "docker" / container_id,
                 CGROUP / "system.slice" / f"docker-{container_id}.scope", CGROUP / "docker" / container_id):
        try:
            lines = (path / "cpu.stat").read_text().splitlines()
        except OSError:
            continue
        return {k: int(v) for k, v in (line.split() for line in lines if len(line.split()) == 2)}
    return None


class ThrottleSampler(threading.Thread):
    """Every `interval` s: the api containers of the compose project (found anew: cells recreate them)."""

    def __init__(self, compose_file: Path, out: Path, interval: float = 2.0):
        super().__init__(name="capacity-throttle", daemon=True)
        self.compose_file, self.out, self.interval = compose_file, out, interval
        self._done = threading.Event()

    def _ids(self) -> list[str]:
        result = subprocess.run(["docker", "compose", "-f", str(self.compose_file), "ps", "-q", "--no-trunc", "api"],
                                capture_output=True, text=True, timeout=30)
        return result.stdout.split()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            try:
                rows = [(round(time.time(), 3), cid[:12], s.get("nr_periods", 0), s.get("nr_throttled", 0))
                        for cid in self._ids() if (s := cpu_stat(cid))]
            except (OSError, subprocess.SubprocessError):
                continue
            if not self.out.parent.exists():
                continue
            new = not self.out.exists()
            with open(self.out, "a", newline="") as f:
                writer = csv.writer(f)
                if new:
                    writer.writerow(COLUMNS)
                writer.writerows(rows)

    def finish(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join(timeout=35)


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
