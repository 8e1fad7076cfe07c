"""The contract between a backend and its load generator: start a load or a shape, stop it early, clean up."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from capacity.core.grid import Grid


class LoadGenerator(Protocol):
    name: str  # "locust" | "wrk", recorded in run.json's grid (load.generator)
    hosts: dict[str, int]  # the last run's generator processes per host (cell.json generator_hosts)

    def prepare(self, grid: Grid) -> list[str]:
        """Build or check what the runs need (once per run); the report's notes. Raises CellError."""

    def run(self, grid: Grid, cell_dir: Path, env: dict[str, str]) -> None:
        """Offer grid.load to the deployed cell until it ends (or stop() is called); write Locust's files into
        cell_dir. `env` is the deployment's (compose knobs, LOCUST_HOST for a Swarm). The generator processes
        per host go to `hosts`. Raises GeneratorError when the generator, not the API, failed."""

    def stop(self) -> None:
        """End the running load now (its files are still written), e.g. once a ramp step has clearly failed."""

    def after_cell(self) -> list[str]:
        """After every cell, on errors too: clean up what the cell started elsewhere; notes for the report."""

    def close(self) -> None:
        """Remove whatever is left (containers, remote workers) after the last cell."""


class ComposeGenerator(LoadGenerator, Protocol):
    project: str  # its compose file's fixed `name:`: the samplers find its containers by this label
