"""A cell on a deployed stack (docker Compose or a Swarm), with the generator in a container beside it.

The docker and swarm backends differ only in how a cell is deployed, sampled and accounted; each is a
`Deployment`, and `run_deployed` is the one cell run they share (composition, not a subclass's hooks).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from capacity.core.cells import Cell, CellError, GeneratorError
from capacity.core.grid import Grid
from capacity.core.records import CellEvents
from capacity.core.samples import RESOURCES_CSV, sample_writer
from capacity.core.settings import Settings
from capacity.generators.base import ComposeGenerator
from labtools import CsvAppender, wait_http


class Sampler(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class CostSampler(Protocol):
    idle_s: float  # seconds of no load after /ready for the idle baseline

    def finish(self) -> None: ...


class Deployment(Protocol):
    generator: ComposeGenerator

    def begin_cell(self) -> None:
        """Note what the cell's accounting starts from (containers, tasks, the time)."""

    def deploy(self, cell: Cell, grid: Grid) -> dict:
        """Give the api the cell's knobs; the environment the generator runs with. Raises CellError."""

    def wait_ready(self) -> None:
        """Until every replica answers /ready through the lb. Raises CellError."""

    def cost_sampler(self, cell_dir: Path) -> CostSampler | None:
        """Started once the replicas are ready: their and the lb's cgroup counters and requests served
        (throttle.csv, measure/cost.py); None where this host cannot see their cgroups."""

    def sampler(self, writer: CsvAppender) -> Sampler:
        """The resource sampler of the running cell (resources.csv)."""

    def cell_events(self, error: str | None) -> CellEvents:
        """OOM kills, restarts and the error of the cell that just ran."""


def run_deployed(target: Deployment, cell: Cell, grid: Grid, cell_dir: Path) -> CellEvents:
    """Deploy the cell, wait for /ready, sample, run the generator; the generator's cleanup always runs."""
    error = generator_error = sampler = cost = None
    writer, started = sample_writer(cell_dir / RESOURCES_CSV), False
    target.begin_cell()
    try:
        env = target.deploy(cell, grid)
        target.wait_ready()
        started = True
        cost = target.cost_sampler(cell_dir)
        time.sleep(max(grid.load.warmup, cost.idle_s if cost else 0))
        sampler = target.sampler(writer)
        sampler.start()
        target.generator.run(grid, cell_dir, env)
    except GeneratorError as exc:
        generator_error = str(exc)
    except CellError as exc:
        error = str(exc)
    finally:
        if sampler is not None:
            sampler.stop()
        if cost is not None:
            cost.finish()
        writer.close()
        notes = target.generator.after_cell()
    events = target.cell_events(error)
    return replace(events, generator_hosts=target.generator.hosts, notes=events.notes + notes, api_started=started,
                   generator_error=generator_error)


def run_home() -> tuple[Path, Path]:
    """Where compose runs (the checkout: run from the project root) and results/, which the generators' compose
    files mount as /results (so a run folder must be under it)."""
    root = Path.cwd()
    return root, (root / "results").resolve()


def wait_ready_through_lb(settings: Settings) -> None:
    url = f"http://{settings.host_bind}:{settings.api_port}/ready"
    try:  # three in a row: every replica behind the lb answers, not just the first one up
        wait_http(url, settings.ready_timeout_s, interval=0.5, times=3, request_timeout=3)
    except TimeoutError:
        raise CellError(f"{url} not ready through the lb after {settings.ready_timeout_s:g} s") from None
