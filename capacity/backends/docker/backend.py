"""Run a cell on the compose stack: recreate api + lb with the cell's limits, load them with the grid's generator.

Per cell: `docker compose up -d --wait --no-deps --force-recreate api lb` with the cell's env knobs (the
trainer is not rerun; the replicas load their model at CAPACITY_BOOT_CPUS, then `docker update` sets the
cell's CPU limit), /ready through the lb, the generator (capacity.generators: Locust from
docker-compose-locust.yaml, or wrk from docker-compose-wrk.yaml) writing into results/<run>/<cell>/ (RUN_ID),
`docker stats` of every api replica, the lb and the generator's containers, then `docker inspect` /
`docker events` for restarts and OOM kills. Ctrl-C stops the generator and recreates api + lb with the default
knobs, so the default stack is left running. With `[generators] endpoints` (--worker-endpoint), more Locust
workers run on other Docker hosts for each cell (capacity.generators.remote_workers); cell.json records the workers per
host (metrics.generator_hosts).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from capacity.backends.deployed import run_deployed, run_home, wait_ready_through_lb
from capacity.backends.docker.startup import docker_startup
from capacity.backends.docker.stats import DockerSampler
from capacity.backends.docker.throttle import CgroupSampler
from capacity.backends.startup import Startup
from capacity.core.cells import Cell, CellError
from capacity.core.docker import compose, docker
from capacity.core.grid import Grid, Lb
from capacity.core.records import CellEvents
from capacity.core.samples import THROTTLE_CSV
from capacity.core.settings import Settings
from capacity.generators import compose_generator
from capacity.generators.compose_locust import tail as _tail
from labtools import CsvAppender, container_cpu, cpu_period_us, set_cpu_period

CELL_KNOBS = ("API_CPUS", "API_MEMORY", "API_REPLICAS", "WEB_CONCURRENCY", "LB_CPUS", "LB_MEMORY")


class DockerBackend:
    name = "docker"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root, self.results = run_home()
        self.generator = compose_generator("locust", settings, self.root, self.results)  # prepare() sets the grid's
        self._ids: dict[str, str] = {}  # the running cell's containers (id -> api | lb), their restart counts at
        self._baseline: dict[str, int] = {}  # its start, and when it began (for `docker events`)
        self._t0 = 0.0

    def _compose(self, *args: str, env: dict | None = None, timeout: float = 120):
        return compose(self.settings.compose_file, *args, env=env, timeout=timeout, cwd=self.root)

    def prepare(self, grid: Grid, out: Path) -> list[str]:
        self.generator = compose_generator(grid.load.generator, self.settings, self.root, self.results)
        if not (self.root / self.settings.compose_file).exists():
            raise CellError(f"docker backend: {self.settings.compose_file} not found; run from the project root")
        if docker("version", "--format", "{{.Server.Version}}").returncode != 0:
            raise CellError("docker backend: no Docker engine answers (`docker version`)")
        if not out.resolve().is_relative_to(self.results):
            raise CellError(f"docker backend: --out must be under {self.results} (the generator writes through "
                            "that mount)")
        running = self._compose("ps", "--status", "running", "--services").stdout.split()
        if "mlflow" not in running:
            raise CellError("docker backend: the core stack is not running (no mlflow); start it with `make up`")
        try:
            notes = self.generator.prepare(grid)
        except CellError as exc:
            raise CellError(f"docker backend: {exc}") from None
        periods = ", ".join(f"{p} ms" for p in grid.grid.cpu_period_ms)
        return [f"Docker backend: lb fixed at {grid.lb.cpus:g} CPU / {grid.lb.memory}; api replicas' CFS period "
                f"{periods} (Docker's default 100 ms; others written into their cgroups after `docker update`).",
                *notes]

    def run_cell(self, cell: Cell, grid: Grid, cell_dir: Path) -> CellEvents:
        return run_deployed(self, cell, grid, cell_dir)

    def begin_cell(self) -> None:
        self._ids, self._baseline, self._t0 = {}, {}, time.time()

    def deploy(self, cell: Cell, grid: Grid) -> dict:
        """Give the api the cell's knobs; the environment the generator runs with."""
        env = cell.env(grid.lb)
        self._up(env, cell.cpus)
        if not cell.default_period:
            self._set_period(cell)
        return env

    def sampler(self, writer: CsvAppender) -> DockerSampler:
        self._ids = self._containers()
        self._baseline = self._restart_counts(self._ids)
        return DockerSampler(writer, self._ids, self.settings.sample_interval_s, self.generator.project)

    def cost_sampler(self, cell_dir: Path) -> CgroupSampler | None:
        """The api replicas' and the lb's cgroup CPU and requests served (measure/cost.py), from this host."""
        roles = {cid: role for cid, role in self._containers().items() if container_cpu(cid) is not None}
        if not roles:
            return None
        sampler = CgroupSampler(roles, cell_dir / THROTTLE_CSV, self.settings.sample_interval_s,
                                self.settings.idle_baseline_s)
        sampler.count()
        sampler.start()
        return sampler

    def cell_events(self, error: str | None) -> CellEvents:
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

    def _set_period(self, cell: Cell) -> None:
        """The cell's CFS period, written into each replica's cgroup from this host (root): Docker has no update
        for it on a container whose limit came from `cpus`; the kernel's counters (nr_periods) then show it."""
        for cid in self._compose("ps", "-q", "api").stdout.split():  # full ids, as the cgroup tree names them
            try:
                set_cpu_period(cid, cell.cpus, cell.cpu_period_ms * 1000)
            except (OSError, ValueError) as exc:
                raise CellError(f"CFS period {cell.cpu_period_ms} ms for api replica {cid[:12]}: {exc}") from None
            if cpu_period_us(cid) != cell.cpu_period_ms * 1000:
                raise CellError(f"api replica {cid[:12]}: the kernel kept a CFS period of {cpu_period_us(cid)} us")

    def wait_ready(self) -> None:
        wait_ready_through_lb(self.settings)

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

    def stop_load(self) -> None:
        """End the running load now (the generator still writes its files), e.g. once a ramp step has failed."""
        self.generator.stop()

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

    def startup(self, cell: Cell, lb: Lb, log: Path) -> Startup:
        return docker_startup(cell, lb, self.settings)

    def shared_stack(self) -> DockerBackend:
        return self

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
        """Leave the default stack running: the generator down, api + lb recreated with the default knobs."""
        self.generator.close()
        defaults = {k: v for k, v in os.environ.items() if k not in CELL_KNOBS}
        subprocess.run(["docker", "compose", "-f", str(self.settings.compose_file), "up", "-d", "--wait", "--no-deps",
                        "--force-recreate", "api", "lb"], env=defaults, cwd=self.root, capture_output=True,
                       timeout=self.settings.ready_timeout_s + 60)
