"""Start a server pinned to one core, time its cold start, sum its memory, stop exactly what we started."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.stack import realservers
from bench.variants import Variant


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
        _wait_ready(f"http://127.0.0.1:{port}{variant.ready_path}", managed.proc, timeout)
    except Exception as exc:
        managed.stop()
        raise RuntimeError(f"{variant.label} did not become ready: {exc}\n{managed.log_tail()}") from exc
    return Running(variant, managed, port, time.monotonic() - started)


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> None:
    """Poll every 50 ms (cold start resolution), bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.05)
    raise TimeoutError(f"{url} not ready after {timeout:.0f}s: {last}")


def tree_rss_mb(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, from /proc (what a container's limit counts)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ppid = _ppid(entry)
            if ppid is not None:
                children.setdefault(ppid, []).append(int(entry.name))
    total_kb, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total_kb += _rss_kb(current)
        todo.extend(children.get(current, []))
    return total_kb / 1024


def _ppid(proc_dir: Path) -> int | None:
    try:
        stat = (proc_dir / "stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
