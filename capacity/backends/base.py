"""What the commands need from a backend, in one protocol: no caller asks `hasattr` or `backend.name`.

A backend deploys a cell (api replicas behind their entry point), runs the load generator against it and samples
it (`run_cell`), can end the load early (`stop_load`), measures a configuration's start-up (`startup`),
and says whether it deploys into a stack that other users of the engine share (`shared_stack`, for campaign.engine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from capacity.backends.startup import Startup
from capacity.core.cells import Cell
from capacity.core.grid import Grid, Lb
from capacity.core.records import CellEvents


class SharedStack(Protocol):
    """A stack on a shared engine: taken in turns (campaign.engine), left as it was found."""

    def stack_running(self) -> bool: ...

    def stack_up(self) -> None: ...

    def stack_down(self) -> None: ...

    def close(self) -> None: ...


class Backend(Protocol):
    name: str  # recorded in run.json and cell.json

    def prepare(self, grid: Grid, out: Path) -> list[str]:
        """Check and build what the run needs (once); the report's notes. Raises CellError."""

    def run_cell(self, cell: Cell, grid: Grid, cell_dir: Path) -> CellEvents:
        """Deploy the cell, run the load, sample it into cell_dir; always take it down."""

    def stop_load(self) -> None:
        """End the running load now (the generator still writes its files)."""

    def startup(self, cell: Cell, lb: Lb, log: Path) -> Startup:
        """Start the configuration once and time it to /ready, with its peak memory while loading."""

    def shared_stack(self) -> SharedStack | None:
        """The stack this backend deploys into when other users of the engine share it; None: nothing shared."""

    def close(self) -> None:
        """Restore the defaults after the last cell (also after Ctrl-C)."""
