"""CPU and resident memory of a process and all its descendants (uvicorn's workers, multiprocessing helpers)."""

from __future__ import annotations

import psutil

_GONE = (psutil.NoSuchProcess, psutil.AccessDenied)


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except _GONE:
        return []


def tree_pids(pid: int) -> list[int]:
    """`pid` first, then every process below it; empty when `pid` is gone."""
    try:
        return [p.pid for p in _tree(psutil.Process(pid))]
    except _GONE:
        return []


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of `pid` and its descendants (what a container's memory limit counts, minus page cache)."""
    return TreeMeter(pid).sample()[1]


class TreeMeter:
    """CPU % (of one core) since the previous `sample()` and RSS now, summed over a process tree.

    The first sample's CPU is 0, as is a new child's: a rate needs two readings."""

    def __init__(self, root: int):
        try:
            self._root: psutil.Process | None = psutil.Process(root)
        except _GONE:
            self._root = None
        self._known: dict[int, psutil.Process] = {}

    def sample(self) -> tuple[float, int]:
        procs = _tree(self._root) if self._root is not None else []
        # The same Process objects from call to call: cpu_percent() measures since that object's last call.
        procs = [self._known.get(p.pid, p) for p in procs]
        cpu, rss = 0.0, 0
        for proc in procs:
            try:
                with proc.oneshot():
                    cpu += proc.cpu_percent(None)
                    rss += proc.memory_info().rss
            except _GONE:
                continue
        self._known = {p.pid: p for p in procs}
        return round(cpu, 1), rss
