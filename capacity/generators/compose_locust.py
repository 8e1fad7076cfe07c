"""Locust from docker-compose-locust.yaml (master + workers on the stack's network), with workers on other
Docker hosts when the grid names them ([generators] endpoints, capacity.generators.remote_workers)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from capacity.core.cells import CellError, GeneratorError, locust_env
from capacity.core.docker import LOCUST_PROJECT, compose
from capacity.core.endpoints import parse_endpoints
from capacity.core.grid import Grid
from capacity.core.settings import Settings
from capacity.generators.remote_workers import RemoteWorkers, check_master_address, generator_hosts
from labtools import compose_locust_env

# The master's own exit code, from its log. Its workers quit first, so --abort-on-container-exit may stop the
# master while it writes its last files: compose then reports 143 for a run that ended normally (find, 2026-11-30).
MASTER_EXIT = re.compile(r"^master-\d+\s*\|.*Shutting down \(exit code (\d+)\)", re.MULTILINE)


def master_exit_code(log: str, compose_code: int) -> int:
    codes = MASTER_EXIT.findall(log)
    return int(codes[-1]) if codes else compose_code


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class ComposeLocust:
    name = "locust"
    project = LOCUST_PROJECT

    def __init__(self, settings: Settings, root: Path, results: Path, remote_hosts: bool = True):
        self.settings, self.root, self.results = settings, root, results
        self.remote_hosts = remote_hosts  # the swarm backend runs Locust on its manager only
        self.remote: RemoteWorkers | None = None
        self.hosts: dict[str, int] = {}  # the last run's workers per host
        self._stopped = False  # stop() ended the run early: the master's exit code is ours, not an error

    def _compose(self, *args: str, env: dict | None = None, timeout: float = 120):
        return compose(self.settings.locust_compose_file, *args, env=env, timeout=timeout, cwd=self.root)

    def prepare(self, grid: Grid) -> list[str]:
        if grid.generators.endpoints and not self.remote_hosts:
            raise CellError("swarm backend: Locust workers on other hosts (--worker-endpoint, [generators]) "
                            "are not supported yet; Locust runs on the manager")
        self.remote = self._remote_workers(grid)
        built = self._compose("build", timeout=900)
        if built.returncode != 0:
            raise CellError(f"building the Locust image failed:\n{tail(built.stderr)}")
        if self.remote is None:
            return [f"Locust runs as {grid.load.workers} worker container(s) on the same machine, its CPU from "
                    "docker stats and Locust's own measurement."]
        self.remote.sync_image()
        hosts = ", ".join(f"{e.name} ({e.url})" for e in self.remote.endpoints)
        return [f"Locust runs as {grid.load.workers} worker container(s) on this machine and "
                f"{self.remote.per_endpoint} on each of {hosts}, joining the master on {self.settings.host_bind}; "
                "local workers' CPU from docker stats, every worker's from Locust's own measurement; workers per "
                "host in each cell.json (generator_hosts)."]

    def _remote_workers(self, grid: Grid) -> RemoteWorkers | None:
        gen = grid.generators
        if not gen.endpoints:
            return None
        check_master_address(self.settings.host_bind)
        per_endpoint = gen.workers_per_endpoint or max(grid.load.workers, 1)
        remote = RemoteWorkers(parse_endpoints(gen.endpoints), per_endpoint, self.settings.host_bind, self.root)
        remote.check_engines()
        return remote

    def run(self, grid: Grid, cell_dir: Path, env: dict[str, str]) -> None:
        load = grid.load
        self.hosts = {}
        run_id = cell_dir.resolve().relative_to(self.results).as_posix()
        local = load.workers if self.remote else max(load.workers, 1)  # with remote workers, 0 local is fine
        locust = {**env, **compose_locust_env(run_id, local), **locust_env(load)}
        if self.remote is not None:
            locust |= self.remote.master_env(local, self.settings.api_port)
            self.remote.up()  # before the master: they retry joining it for up to 5 minutes
        budget = load.run_seconds + 240  # workers joining, the last CSV writes, the summary
        self._stopped = False
        try:
            result = self._compose("up", "--no-build", "--abort-on-container-exit", "--exit-code-from", "master",
                                   env=locust, timeout=budget)
        except subprocess.TimeoutExpired:
            raise GeneratorError(f"Locust did not finish within {budget:g} s; stopped") from None
        finally:
            self._compose("down", "--timeout", "30", timeout=120)
        log = result.stdout + result.stderr
        (cell_dir / "locust-compose.log").write_text(log)
        remote = [e.name for e in self.remote.endpoints] if self.remote else []
        self.hosts = generator_hosts(cell_dir, log, remote)
        if self.remote is not None:
            self.remote.check_joined(log)
        if "Gave up waiting for workers to connect" in log:  # Locust's own message; the master then exits 1
            raise GeneratorError("not every Locust worker joined the master within LOCUST_EXPECT_WORKERS_MAX_WAIT; "
                                 "see locust-compose.log")
        code = master_exit_code(log, result.returncode)
        if code not in (0, 1) and not self._stopped:  # 1 = some requests failed: see the CSV files
            raise GeneratorError(f"Locust exited with code {code}; see locust-compose.log")

    def stop(self) -> None:
        """SIGTERM to the master: it stops the users and writes its files; the workers follow through
        --abort-on-container-exit."""
        self._stopped = True
        self._compose("stop", "--timeout", "60", "master", timeout=120)

    def after_cell(self) -> list[str]:
        """After every cell, on errors too: remote workers removed; notes for the report."""
        leftover = self.remote.down() if self.remote is not None else []
        return [f"Locust workers not removed on {url}" for url in leftover]

    def close(self) -> None:
        self._compose("down", "--timeout", "30", timeout=120)
        if self.remote is not None:
            self.remote.down()
