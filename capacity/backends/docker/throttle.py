"""The api containers' CFS throttling sampled from their cgroup's cpu.stat while a ramp or find cell runs.

Rows go to `throttle.csv` in the cell folder (core.samples.THROTTLE_COLUMNS); measure/throttle.py reads them.
"""

from __future__ import annotations

import csv
import subprocess
import threading
import time
from pathlib import Path

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
