"""CPU and run-queue wait of every wrk thread, sampled from /proc, in the rows Locust's telemetry writes.

A wrk thread is one event loop, as a Locust process is: each gets its own row per sample (node "wrk thread N",
role "worker"), so loadtest.health / loadtest.validity judge it by the same rules (> 90% of a core, or waiting
for a CPU > 20% of the time). CPU is utime + stime of /proc/<pid>/task/<tid>/stat; the wait is field 2 of
/proc/<pid>/task/<tid>/schedstat (ns runnable but not running). The main thread only sleeps; it is left out.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from loadtest.samples import append_samples

TICK_S = 1 / os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _task(pid: int, tid: int) -> tuple[float, int] | None:
    """(CPU seconds, run-queue wait ns) of one thread, None once it is gone."""
    base = Path(f"/proc/{pid}/task/{tid}")
    try:
        stat = (base / "stat").read_text()
        wait = int((base / "schedstat").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) * TICK_S, wait


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class ThreadMeter:
    """Samples one wrk process's threads every `interval_s` (and once at stop) into `path`."""

    def __init__(self, pid: int, path: Path, interval_s: float, users: Callable[[], int]) -> None:
        self.pid, self.path, self.interval_s, self.users = pid, path, interval_s, users
        self._last: dict[int, tuple[float, float, int]] = {}  # tid -> (monotonic, cpu s, wait ns)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"meter-{pid}", daemon=True)
        self.rows: list[dict] = []

    def _tids(self) -> list[int]:
        try:
            return sorted(int(t) for t in os.listdir(f"/proc/{self.pid}/task") if int(t) != self.pid)
        except OSError:
            return []

    def sample(self) -> list[dict]:
        rows, now, users, rss = [], time.monotonic(), self.users(), _rss(self.pid)
        for n, tid in enumerate(self._tids(), start=1):
            reading = _task(self.pid, tid)
            if reading is None:
                continue
            before = self._last.get(tid)
            self._last[tid] = (now, *reading)
            if before is None or now - before[0] < 0.2:
                continue
            wall = now - before[0]
            rows.append({"timestamp": round(time.time(), 3), "node": f"wrk thread {n}", "role": "worker",
                         "cpu_percent": round(100 * (reading[0] - before[1]) / wall, 1), "memory_bytes": rss,
                         "user_count": users, "runqueue_pct": round(100 * (reading[1] - before[2]) / 1e9 / wall, 1)})
        append_samples(self.path, rows)
        self.rows += rows
        return rows

    def _loop(self) -> None:
        self.sample()  # primes every thread's counters
        while not self._stop.wait(self.interval_s):
            self.sample()

    def start(self) -> ThreadMeter:
        self._thread.start()
        return self

    def stop(self) -> None:
        """One last sample while the threads still exist (wrk's threads end before its done())."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()
