"""The generators as local processes (native backend): Locust with capacity/generators/native_locustfile.py,
which spreads its users round-robin over the replicas' URLs, or wrk (`python -m wrkload`), which loads one URL.

The backend watches the process (its CPU and RSS into resources.csv) from `on_start`; stop() sends SIGTERM to
its process group: Locust stops its users, wrkload ends its wrk with SIGINT; both still write their files.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from capacity.core.cells import CellError, GeneratorError, locust_env
from capacity.core.grid import Grid
from capacity.core.provenance import ROOT
from labtools import Managed, spawn

NATIVE_LOCUSTFILE = Path(__file__).with_name("native_locustfile.py")


class LocalGenerator:
    """One generator process per cell; subclasses say which command and environment."""

    name = ""
    finish_s = 90.0  # beyond the load's own time: the last files, the summary

    def __init__(self) -> None:
        self.hosts: dict[str, int] = {}
        self.on_start: Callable[[Managed], None] = lambda managed: None  # the backend's watcher
        self._running: Managed | None = None
        self._stopped = False  # stop() ended the run early: the exit code is ours, not an error

    def command(self, grid: Grid, cell_dir: Path, targets: list[str]) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def prepare(self, grid: Grid) -> list[str]:
        return []

    def run(self, grid: Grid, cell_dir: Path, env: dict[str, str]) -> None:
        cmd, gen_env = self.command(grid, cell_dir, env["CAPACITY_TARGETS"].split(","))
        managed = self._running = spawn(cmd, cell_dir / f"{self.name}.log", gen_env, ROOT)
        self._stopped, self.hosts = False, {"local": 1}
        self.on_start(managed)
        budget = grid.load.run_seconds + self.finish_s
        try:
            code = managed.proc.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            raise GeneratorError(f"{self.name} did not finish within {budget:g} s; stopped") from None
        finally:
            managed.stop()
            self._running = None
        if code not in (0, 1) and not self._stopped:  # Locust: 1 = some requests failed; wrkload: no answer
            raise GeneratorError(f"{self.name} exited with code {code}; see {self.name}.log")

    def stop(self) -> None:
        running = self._running
        if running is not None and running.proc.poll() is None:
            self._stopped = True
            os.killpg(running.proc.pid, signal.SIGTERM)

    def after_cell(self) -> list[str]:
        return []

    def close(self) -> None:
        """Nothing keeps running between cells."""


class LocalLocust(LocalGenerator):
    name = "locust"

    def command(self, grid: Grid, cell_dir: Path, targets: list[str]) -> tuple[list[str], dict[str, str]]:
        cmd = [sys.executable, "-m", "locust", "-f", str(NATIVE_LOCUSTFILE), "--host", targets[0],
               "--csv", str(cell_dir / "locust"), "--csv-full-history", "--html", str(cell_dir / "report.html"),
               "--stop-timeout", "5", "--exit-code-on-error", "0"]
        # The locustfile imports `locustfile` (locust/) and `capacity` (the project root) from its PYTHONPATH.
        env = {**locust_env(grid.load), "CAPACITY_TARGETS": ",".join(targets),
               "PYTHONPATH": os.pathsep.join([str(ROOT / "locust"), str(ROOT)])}
        return cmd, env


class LocalWrk(LocalGenerator):
    name = "wrk"

    def prepare(self, grid: Grid) -> list[str]:
        if max(grid.grid.replicas) > 1:
            raise CellError("native backend with wrk: one replica per cell (wrk loads one URL and the native "
                            "backend has no lb); use --backend docker, or --generator locust (round-robin users)")
        return ["wrk (wrk/, `python -m wrkload`) generates the load as a local process on the same cores."]

    def command(self, grid: Grid, cell_dir: Path, targets: list[str]) -> tuple[list[str], dict[str, str]]:
        load = grid.load
        cmd = [sys.executable, "-m", "wrkload", "run", "--host", targets[0], "--users", str(load.users),
               "--spawn-rate", f"{load.spawn_rate:g}", "--duration", f"{load.duration:g}",
               "--csv", str(cell_dir / "locust"), "--summary"]
        env = {**locust_env(grid.load), "PYTHONPATH": os.pathsep.join([str(ROOT / "wrk"), str(ROOT / "locust")])}
        return cmd, env
