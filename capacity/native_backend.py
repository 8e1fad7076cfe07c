"""Run a cell without Docker: N local API processes pinned to whole cores, real Locust as a subprocess.

- CPU: `taskset` pins each replica to ceil(cpus) cores (a process cannot be given a fraction of a core
  without cgroups), so 0.25, 0.5 and 1.0 CPU are the same deployment here; the report says so.
- Memory: the replica's RSS (its whole process tree) is watched; over the limit it is killed and the cell
  records an OOM kill. RSS leaves out the page cache a container's limit counts, so it is a lower bound.
- Replicas: each listens on its own loopback port; the users are spread round-robin over them by
  capacity/native_locustfile.py (no nginx in the path).
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from capacity.cells import Cell, CellError, locust_env
from capacity.grid import Grid
from capacity.metrics import RESOURCES_CSV, SampleWriter
from capacity.native_watch import Watched, Watcher
from capacity.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def core_sets(cpus: float, replicas: int, cores: list[int]) -> list[list[int]]:
    """ceil(cpus) cores per replica, handed out in turn over the cores this process may use."""
    need = min(math.ceil(cpus), len(cores))
    return [[cores[(r * need + j) % len(cores)] for j in range(need)] for r in range(replicas)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(cmd: list[str], log: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **QUIET, **env},
                                cwd=cwd, start_new_session=True)


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """End a process group we started: SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


class NativeBackend:
    name = "native"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.cores = sorted(os.sched_getaffinity(0))

    def prepare(self, grid: Grid, out: Path) -> list[str]:
        """Check the tools; return the notes the report must carry."""
        if shutil.which("taskset") is None:
            raise CellError("native backend: `taskset` (util-linux) not found")
        rounded = sorted({c for c in grid.grid.cpus if c != math.ceil(c)})
        notes = [f"Native backend: replicas are local processes pinned with taskset to whole cores of "
                 f"{len(self.cores)}; API memory is RSS (page cache not counted); users are spread round-robin "
                 f"over the replicas by Locust (no nginx), so lb columns are empty. Locust shares the same cores."]
        if rounded:
            notes.append("Native backend: cpus " + ", ".join(f"{c:g}" for c in rounded)
                         + " rounded UP to whole cores (taskset cannot give a fraction of a core): cells that "
                         "differ only there are the same deployment here.")
        return notes

    def run_cell(self, cell: Cell, grid: Grid, cell_dir: Path) -> dict:
        """Start the replicas, load them, stop everything we started; return events (OOM kills, crashes)."""
        writer = SampleWriter(cell_dir / RESOURCES_CSV)
        watcher = Watcher(writer, self.settings.sample_interval_s)
        procs: list[subprocess.Popen] = []
        error = None
        try:
            urls = self._start_replicas(cell, cell_dir, watcher, procs)
            watcher.start()
            self._wait_ready(urls, procs)
            if grid.load.warmup:
                time.sleep(grid.load.warmup)
            locust = self._start_locust(grid, cell_dir, urls)
            procs.append(locust)
            watcher.add(Watched("generator", "locust", locust))
            self._wait_locust(locust, grid.load.run_seconds)
        except CellError as exc:
            error = str(exc)
        finally:
            watcher.stop()
            for proc in reversed(procs):
                stop(proc)
            writer.close()
        problems = [p for p in (error, *watcher.crashes) if p]
        return {"oom_killed": len(watcher.kills), "restarts": 0, "error": "; ".join(problems) or None,
                "notes": watcher.kills}

    def _start_replicas(self, cell: Cell, cell_dir: Path, watcher: Watcher, procs: list) -> list[str]:
        urls = []
        for i, cores in enumerate(core_sets(cell.cpus, cell.replicas, self.cores), start=1):
            port = free_port()
            env = {"API_HOST": "127.0.0.1", "API_PORT": str(port), "WEB_CONCURRENCY": str(cell.processes),
                   "MLFLOW_TRACKING_URI": self.settings.mlflow_tracking_uri, "MODEL_NAME": self.settings.model_name,
                   "MODEL_ALIAS": self.settings.model_alias, "PYTHONPATH": str(ROOT / "fastapi")}
            cmd = ["taskset", "-c", ",".join(map(str, cores)), sys.executable, "-m", "inference"]
            proc = _spawn(cmd, cell_dir / f"api-{i}.log", env, ROOT / "fastapi")
            procs.append(proc)
            watcher.add(Watched("api", f"api-{i}", proc, cell.memory_bytes))
            urls.append(f"http://127.0.0.1:{port}")
        return urls

    def _wait_ready(self, urls: list[str], procs: list[subprocess.Popen]) -> None:
        deadline = time.monotonic() + self.settings.ready_timeout_s
        pending = list(urls)
        while pending and time.monotonic() < deadline:
            if dead := [p for p in procs if p.poll() is not None]:
                raise CellError(f"a replica exited before it was ready (code {dead[0].returncode}); see api-*.log")
            pending = [u for u in pending if not _ready(f"{u}/ready")]
            if pending:
                time.sleep(0.5)
        if pending:
            raise CellError(f"not ready after {self.settings.ready_timeout_s:g} s: {', '.join(pending)}")

    def _start_locust(self, grid: Grid, cell_dir: Path, urls: list[str]) -> subprocess.Popen:
        load = grid.load
        cmd = [sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("native_locustfile.py")),
               "--headless", "--host", urls[0], "--csv", str(cell_dir / "locust"), "--csv-full-history",
               "--html", str(cell_dir / "report.html"), "--stop-timeout", "5", "--exit-code-on-error", "0"]
        if load.shape == "none":
            cmd += ["-u", str(load.users), "-r", f"{load.spawn_rate:g}", "-t", f"{math.ceil(load.duration)}s"]
        env = {**locust_env(load), "CAPACITY_TARGETS": ",".join(urls),
               "PYTHONPATH": os.pathsep.join([str(ROOT / "locust"), str(ROOT)])}
        return _spawn(cmd, cell_dir / "locust.log", env, ROOT)

    def _wait_locust(self, locust: subprocess.Popen, run_seconds: float) -> None:
        try:
            code = locust.wait(timeout=run_seconds + 90)
        except subprocess.TimeoutExpired:
            stop(locust)
            raise CellError(f"Locust did not finish within {run_seconds + 90:g} s; stopped") from None
        if code not in (0, 1):
            raise CellError(f"Locust exited with code {code}; see locust.log")

    def close(self) -> None:
        """Nothing keeps running between cells."""
