"""Run a cell on the compose stack: recreate api + lb with the cell's limits, load them with the Locust compose.

Per cell: `docker compose up -d --wait --no-deps --force-recreate api lb` with the cell's env knobs (the
trainer is not rerun; the replicas load their model at CAPACITY_BOOT_CPUS, then `docker update` sets the
cell's CPU limit), /ready through the lb, Locust headless from docker-compose-locust.yaml writing into
results/<run>/<cell>/ (RUN_ID), `docker stats` of every api replica, the lb and the Locust containers, then
`docker inspect` / `docker events` for restarts and OOM kills. Ctrl-C stops Locust and recreates api + lb
with the default knobs, so the default stack is left running. With `[generators] endpoints` (--worker-endpoint),
more workers run on other Docker hosts for each cell (capacity.remote_workers); cell.json records the workers
per host (metrics.generator_hosts).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import replace
from pathlib import Path

from capacity.cells import Cell, CellError, GeneratorError, locust_env
from capacity.dockerstats import DockerSampler, docker
from capacity.endpoints import parse_endpoints
from capacity.grid import Grid
from capacity.metrics import RESOURCES_CSV, sample_writer
from capacity.records import CellEvents
from capacity.remote_workers import RemoteWorkers, check_master_address, generator_hosts
from capacity.settings import Settings
from labtools import compose_locust_env, wait_http

CELL_KNOBS = ("API_CPUS", "API_MEMORY", "API_REPLICAS", "WEB_CONCURRENCY", "LB_CPUS", "LB_MEMORY")


# The master's own exit code, from its log. Its workers quit first, so --abort-on-container-exit may stop the
# master while it writes its last files: compose then reports 143 for a run that ended normally (find, 2026-11-30).
MASTER_EXIT = re.compile(r"^master-\d+\s*\|.*Shutting down \(exit code (\d+)\)", re.MULTILINE)


def master_exit_code(log: str, compose_code: int) -> int:
    codes = MASTER_EXIT.findall(log)
    return int(codes[-1]) if codes else compose_code


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class DockerBackend:
    name = "docker"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root = Path.cwd()
        self.results = (self.root / "results").resolve()  # mounted by docker-compose-locust.yaml as /results
        self._stopped = False  # stop_load() ended the run early: the master's exit code is ours, not an error
        self.remote: RemoteWorkers | None = None  # workers on other Docker hosts ([generators] endpoints)
        self._hosts: dict[str, int] = {}  # the last cell's Locust workers per host
        self._ids: dict[str, str] = {}  # the running cell's containers (id -> api | lb), their restart counts at
        self._baseline: dict[str, int] = {}  # its start, and when it began (for `docker events`)
        self._t0 = 0.0

    def _compose(self, *args: str, env: dict | None = None, timeout: float = 120, locust: bool = False):
        file = self.settings.locust_compose_file if locust else self.settings.compose_file
        return subprocess.run(["docker", "compose", "-f", str(file), *args], capture_output=True, text=True,
                              env={**os.environ, **(env or {})}, timeout=timeout, cwd=self.root)

    def prepare(self, grid: Grid, out: Path) -> list[str]:
        self.remote = self._remote_workers(grid)
        for file in (self.settings.compose_file, self.settings.locust_compose_file):
            if not (self.root / file).exists():
                raise CellError(f"docker backend: {file} not found; run from the project root")
        if docker("version", "--format", "{{.Server.Version}}").returncode != 0:
            raise CellError("docker backend: no Docker engine answers (`docker version`)")
        if not out.resolve().is_relative_to(self.results):
            raise CellError(f"docker backend: --out must be under {self.results} (Locust writes through that mount)")
        running = self._compose("ps", "--status", "running", "--services").stdout.split()
        if "mlflow" not in running:
            raise CellError("docker backend: the core stack is not running (no mlflow); start it with `make up`")
        built = self._compose("build", timeout=900, locust=True)
        if built.returncode != 0:
            raise CellError(f"docker backend: building the Locust image failed:\n{_tail(built.stderr)}")
        if self.remote is None:
            return [f"Docker backend: lb fixed at {grid.lb.cpus:g} CPU / {grid.lb.memory}; Locust runs as "
                    f"{grid.load.workers} worker container(s) on the same machine, its CPU from docker stats and "
                    "Locust's own measurement."]
        self.remote.sync_image()
        hosts = ", ".join(f"{e.name} ({e.url})" for e in self.remote.endpoints)
        return [f"Docker backend: lb fixed at {grid.lb.cpus:g} CPU / {grid.lb.memory}; Locust runs as "
                f"{grid.load.workers} worker container(s) on this machine and {self.remote.per_endpoint} on each "
                f"of {hosts}, joining the master on {self.settings.host_bind}; local workers' CPU from docker "
                "stats, every worker's from Locust's own measurement; workers per host in each cell.json "
                "(generator_hosts)."]

    def _remote_workers(self, grid: Grid) -> RemoteWorkers | None:
        gen = grid.generators
        if not gen.endpoints:
            return None
        check_master_address(self.settings.host_bind)
        per_endpoint = gen.workers_per_endpoint or max(grid.load.workers, 1)
        remote = RemoteWorkers(parse_endpoints(gen.endpoints), per_endpoint, self.settings.host_bind, self.root)
        remote.check_engines()
        return remote

    def run_cell(self, cell: Cell, grid: Grid, cell_dir: Path) -> CellEvents:
        """Deploy the cell, wait for /ready, sample, run Locust; always take Locust down. The hooks `_begin_cell`,
        `_deploy`, `_sampler`, `_end_cell` and `_cell_events` are what the Swarm backend does differently."""
        error = generator_error = sampler = None
        writer, started = sample_writer(cell_dir / RESOURCES_CSV), False
        self._begin_cell()
        try:
            env = self._deploy(cell, grid)
            self._wait_ready()
            started = True
            time.sleep(grid.load.warmup)
            sampler = self._sampler(writer)
            sampler.start()
            self._run_locust(grid, cell_dir, env)
        except GeneratorError as exc:
            generator_error = str(exc)
        except CellError as exc:
            error = str(exc)
        finally:
            if sampler is not None:
                sampler.stop()
            writer.close()
            self._compose("down", "--timeout", "30", timeout=120, locust=True)
            notes = self._end_cell()
        events = self._cell_events(error)
        return replace(events, generator_hosts=self._hosts, notes=events.notes + notes, api_started=started,
                       generator_error=generator_error)

    def _begin_cell(self) -> None:
        self._hosts, self._ids, self._baseline, self._t0 = {}, {}, {}, time.time()

    def _deploy(self, cell: Cell, grid: Grid) -> dict:
        """Give the api the cell's knobs; the environment Locust runs with."""
        env = cell.env(grid.lb)
        self._up(env, cell.cpus)
        return env

    def _sampler(self, writer):
        self._ids = self._containers()
        self._baseline = self._restart_counts(self._ids)
        return DockerSampler(writer, self._ids, self.settings.sample_interval_s)

    def _end_cell(self) -> list[str]:
        """After Locust is down, on errors too: notes for the report."""
        leftover = self.remote.down() if self.remote is not None else []
        return [f"Locust workers not removed on {url}" for url in leftover]

    def _cell_events(self, error: str | None) -> CellEvents:
        return self._events(self._ids or self._containers(), self._baseline, self._t0, error)

    def _up(self, env: dict, cpus: float) -> None:
        """api + lb recreated; the replicas load their model at settings.boot_cpus, then get the cell's CPU limit."""
        wait, boot = str(int(self.settings.ready_timeout_s)), max(cpus, self.settings.boot_cpus)
        result = self._compose("up", "-d", "--wait", "--wait-timeout", wait, "--no-deps", "--force-recreate",
                               "api", "lb", env={**env, "API_CPUS": f"{boot:g}"},
                               timeout=self.settings.ready_timeout_s + 60)
        if result.returncode != 0:
            raise CellError(f"api/lb did not become healthy: {_tail(result.stderr, 3)}")
        if boot != cpus:
            ids = self._compose("ps", "-q", "api").stdout.split()
            updated = docker("update", "--cpus", f"{cpus:g}", *ids)
            if not ids or updated.returncode != 0:
                raise CellError(f"docker update --cpus {cpus:g} of the api replicas failed: {_tail(updated.stderr, 3)}")

    def _wait_ready(self) -> None:
        url = f"http://{self.settings.host_bind}:{self.settings.api_port}/ready"
        try:  # three in a row: every replica behind the lb answers, not just the first one up
            wait_http(url, self.settings.ready_timeout_s, interval=0.5, times=3, request_timeout=3)
        except TimeoutError:
            raise CellError(f"{url} not ready through the lb after {self.settings.ready_timeout_s:g} s") from None

    def _containers(self) -> dict[str, str]:
        ids = {}
        for service in ("api", "lb"):
            for cid in self._compose("ps", "-q", "--all", service).stdout.split():
                ids[cid] = service
        return ids

    def _restart_counts(self, ids: dict[str, str]) -> dict[str, int]:
        if not ids:
            return {}
        out = docker("inspect", "--format", "{{.Id}} {{.RestartCount}} {{.State.OOMKilled}}", *ids).stdout
        return {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if line.strip()}

    def _run_locust(self, grid: Grid, cell_dir: Path, env: dict) -> None:
        load = grid.load
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
                                   env=locust, timeout=budget, locust=True)
        except subprocess.TimeoutExpired:
            raise GeneratorError(f"Locust did not finish within {budget:g} s; stopped") from None
        log = result.stdout + result.stderr
        (cell_dir / "locust-compose.log").write_text(log)
        remote = [e.name for e in self.remote.endpoints] if self.remote else []
        self._hosts = generator_hosts(cell_dir, log, remote)
        if self.remote is not None:
            self.remote.check_joined(log)
        if "Gave up waiting for workers to connect" in log:  # Locust's own message; the master then exits 1
            raise GeneratorError("not every Locust worker joined the master within LOCUST_EXPECT_WORKERS_MAX_WAIT; "
                                 "see locust-compose.log")
        code = master_exit_code(log, result.returncode)
        if code not in (0, 1) and not self._stopped:  # 1 = some requests failed: see the CSV files
            raise GeneratorError(f"Locust exited with code {code}; see locust-compose.log")

    def stop_load(self) -> None:
        """End the running Locust now (SIGTERM to the master: it stops the users and writes its files), e.g. once
        a ramp step has clearly failed; the workers follow through --abort-on-container-exit."""
        self._stopped = True
        self._compose("stop", "--timeout", "60", "master", timeout=120, locust=True)

    def _events(self, ids: dict[str, str], baseline: dict[str, int], since: float, error: str | None) -> CellEvents:
        now = self._restart_counts(ids)
        restarts = sum(max(0, n - baseline.get(cid, n)) for cid, n in now.items() if ids.get(cid) == "api")
        api = [cid for cid, role in ids.items() if role == "api"]
        ooms = []
        if api:
            args = [f"--filter=container={cid}" for cid in api]
            out = docker("events", "--since", str(int(since)), "--until", str(int(time.time()) + 1),
                         "--filter", "event=oom", *args, "--format", "{{.Actor.Attributes.name}}").stdout
            ooms = out.split()
        return CellEvents(oom_killed=len(ooms), restarts=restarts, error=error,
                          notes=[f"OOM kill: {name}" for name in ooms])

    def stack_running(self) -> bool:
        return "mlflow" in self._compose("ps", "--status", "running", "--services").stdout.split()

    def stack_up(self) -> None:
        """Start the core stack (`make up` without --build): a shared engine's stack may be down between turns."""
        result = self._compose("up", "-d", "--wait", timeout=900)
        if result.returncode != 0:
            raise CellError(f"docker backend: the core stack did not start: {_tail(result.stderr, 3)}")

    def stack_down(self) -> None:
        self._compose("down", timeout=300)

    def close(self) -> None:
        """Leave the default stack running: Locust down, api + lb recreated with the default knobs."""
        self._compose("down", "--timeout", "30", timeout=120, locust=True)
        if self.remote is not None:
            self.remote.down()
        defaults = {k: v for k, v in os.environ.items() if k not in CELL_KNOBS}
        subprocess.run(["docker", "compose", "-f", str(self.settings.compose_file), "up", "-d", "--wait", "--no-deps",
                        "--force-recreate", "api", "lb"], env=defaults, cwd=self.root, capture_output=True,
                       timeout=self.settings.ready_timeout_s + 60)
