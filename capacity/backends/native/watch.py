"""Native backend: watch the API replicas and Locust (psutil) while a cell runs.

Every `interval` seconds: CPU and RSS of each replica's process tree and of the Locust process into
resources.csv; a replica whose RSS is over the cell's memory limit is killed (SIGKILL to its process
group) and counted as an OOM kill, as the kernel would in a container; a replica that exits on its own is
recorded as a crash.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field

from capacity.core.periodic import Periodic
from labtools import CsvAppender, TreeMeter


@dataclass
class Watched:
    role: str  # api | generator
    name: str
    proc: subprocess.Popen
    mem_limit: int = 0  # bytes; 0 = no limit
    meter: TreeMeter = field(init=False)
    killed: bool = False  # by us, over its memory limit
    gone: bool = False  # its exit has been recorded

    def __post_init__(self) -> None:
        self.meter = TreeMeter(self.proc.pid)


class Watcher(Periodic):
    def __init__(self, writer: CsvAppender, interval: float):
        super().__init__("capacity-native-watch", interval, join_timeout=interval + 5)
        self.writer = writer
        self.watched: list[Watched] = []
        self.kills: list[str] = []  # over the memory limit, killed by us (the OOM killer's part)
        self.crashes: list[str] = []  # exited on their own
        self._lock = threading.Lock()

    def add(self, item: Watched) -> None:
        with self._lock:
            self.watched.append(item)

    def tick(self) -> None:
        now, rows = round(time.time(), 3), []
        with self._lock:
            items = list(self.watched)
        for item in items:
            if item.gone:
                continue
            if item.proc.poll() is not None:
                self._exited(item)
                continue
            cpu, rss = item.meter.sample()
            rows.append({"timestamp": now, "role": item.role, "name": item.name, "cpu_pct": cpu,
                         "mem_bytes": rss, "mem_limit_bytes": item.mem_limit})
            if item.mem_limit and rss > item.mem_limit:
                self._kill(item, rss)
        self.writer.write(rows)

    def _kill(self, item: Watched, rss: int) -> None:
        try:
            os.killpg(item.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        item.killed = True
        self.kills.append(f"{item.name} killed: RSS {rss / 2**20:.0f} MiB over its {item.mem_limit / 2**20:.0f} MiB")

    def _exited(self, item: Watched) -> None:
        item.gone = True
        if item.role == "api" and not item.killed:
            self.crashes.append(f"{item.name} exited on its own (code {item.proc.returncode})")

    def stop(self) -> None:
        super().stop()
        self.tick()  # a last sample, and a last look for exits
