"""CPU and resident memory of a process and all its descendants, from /proc (Linux), without psutil."""

from __future__ import annotations

import os
import time
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()


def parent_map() -> dict[int, int]:
    parents = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    return parents


def descendants(root: int, parents: dict[int, int] | None = None) -> list[int]:
    """`root` and every process below it (uvicorn's worker processes, multiprocessing helpers)."""
    parents = parent_map() if parents is None else parents
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in parents or pid == root:
            found.append(pid)
            todo += children.get(pid, [])
    return found


def cpu_seconds(pid: int) -> float | None:
    fields = _stat_fields(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_bytes(pid: int) -> int:
    try:
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


class TreeMeter:
    """CPU % (of one core) since the previous call and RSS now, summed over a process tree."""

    def __init__(self, root: int):
        self.root = root
        self._last: dict[int, float] = {}
        self._last_time = time.monotonic()

    def sample(self, parents: dict[int, int] | None = None) -> tuple[float, int]:
        now = time.monotonic()
        pids = descendants(self.root, parents)
        cpu_now = {pid: s for pid in pids if (s := cpu_seconds(pid)) is not None}
        used = sum(s - self._last.get(pid, s) for pid, s in cpu_now.items())
        elapsed = max(now - self._last_time, 1e-6)
        first = not self._last
        self._last, self._last_time = cpu_now, now
        cpu = 0.0 if first else max(used, 0.0) / elapsed * 100
        return round(cpu, 1), sum(rss_bytes(pid) for pid in cpu_now)
