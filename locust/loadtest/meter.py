"""How busy is this process, and how long did it wait for a CPU? Both since the previous reading.

CPU % comes from psutil (the measurement behind Locust's "CPU usage above 90%" warning). The run-queue share is
field 2 of `/proc/<pid>/schedstat` (nanoseconds spent runnable but waiting for a CPU) over the wall time: a
worker the host cannot schedule stays under 90% CPU yet falls behind, and only this number shows it.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SCHEDSTAT = Path("/proc/self/schedstat")


@dataclass(frozen=True)
class Reading:
    cpu_pct: float  # % of one core
    runqueue_pct: float | None  # % of wall time runnable but not running; None without schedstat


def read_wait_ns(path: Path = SCHEDSTAT) -> int | None:
    try:
        return int(path.read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None


class ProcessMeter:
    """`read()` returns the Reading since the previous `read()` (or since construction)."""

    def __init__(self, schedstat: Path = SCHEDSTAT) -> None:
        self._process = psutil.Process()
        self._process.cpu_percent()  # psutil's first call only primes the counter
        self._schedstat = schedstat
        self._wait, self._at = read_wait_ns(schedstat), time.monotonic()

    def read(self) -> Reading:
        cpu = self._process.cpu_percent()
        wait, at = read_wait_ns(self._schedstat), time.monotonic()
        share = None
        if wait is not None and self._wait is not None and at > self._at:
            share = min(100.0, max(0.0, 100 * (wait - self._wait) / 1e9 / (at - self._at)))
        self._wait, self._at = wait, at
        return Reading(cpu_pct=round(cpu, 1), runqueue_pct=None if share is None else round(share, 1))


class WindowedMeter:
    """A ProcessMeter read at most once per `window_s`: in between, `read()` repeats the last reading.

    One 3 s report of a busy host swings a lot; ten seconds (Locust's own current-RPS window) give a verdict
    that does not flicker.
    """

    def __init__(self, window_s: float = 10.0, clock=time.monotonic) -> None:
        self._meter, self._window, self._clock = ProcessMeter(), window_s, clock
        self._at, self._last = clock(), None

    def read(self) -> Reading:
        if self._last is None or self._clock() - self._at >= self._window:
            self._last, self._at = self._meter.read(), self._clock()
        return self._last


def hostname() -> str:
    return socket.gethostname()
