"""Start a server pinned to one core, time its cold start, sum its memory, stop exactly what we started."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from bench.stack import realservers
from bench.variants import Variant
from capacity.procstat import descendants, rss_bytes


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
    managed: object  # realservers.process.Managed
    port: int
    ready_s: float

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.managed.stop()


def start(variant: Variant, core: int | None, logdir: Path, timeout: float = 180.0) -> Running:
    """Spawn the variant (own session, pinned) and wait for the first 200 on its readiness URL."""
    rs = realservers()
    port = rs.free_port()
    env = {**variant.env, "API_PORT": str(port)}
    started = time.monotonic()
    managed = rs.process.spawn(Cores.pin(core, variant.command(port)), logdir / f"{variant.key}.log", env=env,
                               cwd=variant.cwd)
    try:
        # Every 50 ms: the cold-start figure is only as fine as this poll.
        rs.wait_http(f"http://127.0.0.1:{port}{variant.ready_path}", timeout, managed.proc, interval=0.05)
    except Exception as exc:
        managed.stop()
        raise RuntimeError(f"{variant.label} did not become ready: {exc}\n{managed.log_tail()}") from exc
    return Running(variant, managed, port, time.monotonic() - started)


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, from /proc (what a container's limit counts)."""
    return sum(rss_bytes(p) for p in descendants(pid)) / 2**20
