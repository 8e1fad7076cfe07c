"""The api containers' CFS throttling sampled from their cgroup's cpu.stat while a ramp or find cell runs.

Rows go to `throttle.csv` in the cell folder (core.samples.THROTTLE_COLUMNS); measure/throttle.py reads them.
"""

from __future__ import annotations

import csv
import subprocess
import time
from pathlib import Path

from capacity.core.periodic import Periodic
from capacity.core.samples import THROTTLE_COLUMNS as COLUMNS

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


class ThrottleSampler(Periodic):
    """Every `interval` s: the api containers of the compose project (found anew: cells recreate them)."""

    def __init__(self, compose_file: Path, out: Path, interval: float = 2.0):
        super().__init__("capacity-throttle", interval, join_timeout=35)
        self.compose_file, self.out = compose_file, out

    def _ids(self) -> list[str]:
        result = subprocess.run(["docker", "compose", "-f", str(self.compose_file), "ps", "-q", "--no-trunc", "api"],
                                capture_output=True, text=True, timeout=30)
        return result.stdout.split()

    def tick(self) -> None:
        try:
            rows = [(round(time.time(), 3), cid[:12], s.get("nr_periods", 0), s.get("nr_throttled", 0))
                    for cid in self._ids() if (s := cpu_stat(cid))]
        except (OSError, subprocess.SubprocessError):
            return
        if not self.out.parent.exists():
            return
        new = not self.out.exists()
        with open(self.out, "a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(COLUMNS)
            writer.writerows(rows)
