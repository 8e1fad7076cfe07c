"""Start a server pinned to one core, time its cold start, sum its memory, stop exactly what we started."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.variants import Variant
from labtools import Managed, free_port, start_server, tree_rss_bytes


@dataclass(frozen=True)
class Cores:
    """Where the server and the load generator run; `None` when the machine has fewer than two cores."""

    server: int | None
    load: int | None

    @classmethod
    def detect(cls) -> Cores:
        available = sorted(os.sched_getaffinity(0))
        if len(available) < 2:
            return cls(None, None)
        return cls(available[0], available[1])

    @staticmethod
    def pin(core: int | None, cmd: list[str]) -> list[str]:
        return cmd if core is None else ["taskset", "-c", str(core), *cmd]


@dataclass
class Running:
    variant: Variant
    server: Managed
    ready_s: float


def start(variant: Variant, core: int | None, logdir: Path, timeout: float = 180.0) -> Running:
    """Spawn the variant (own session, pinned) and wait for the first 200 on its readiness URL."""
    port = free_port()
    started = time.monotonic()
    # Polled every 50 ms: the cold-start figure is only as fine as this poll.
    server = start_server(Cores.pin(core, variant.command(port)), logdir / f"{variant.key}.log", port,
                          variant.ready_path, variant.label, env={**variant.env, "API_PORT": str(port)},
                          cwd=variant.cwd, timeout=timeout, interval=0.05)
    return Running(variant, server, time.monotonic() - started)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants (what a container's limit counts)."""
    return tree_rss_bytes(pid) / 2**20


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by `pid` and its descendants alive now."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total
