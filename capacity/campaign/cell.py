"""One cell measured through a backend into its folder (cell.json), and the sweep's run.json."""

from __future__ import annotations

import json
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from capacity.backends.base import Backend
from capacity.core.cells import Cell
from capacity.core.grid import Grid
from capacity.core.records import CELL_JSON, CellInfo, CellRecord
from capacity.core.samples import RESOURCES_CSV, read_samples
from capacity.measure.cost import cell_cost
from capacity.measure.metrics import cell_metrics, locust_summary
from capacity.measure.slo import CellJudge, Judgement, judge_cell
from capacity.measure.steps import load_window
from capacity.measure.throttle import read_throttle

Report = Callable[[Path], object]  # a command's last act, also after Ctrl-C: the CLI passes its report writer


def no_report(out: Path) -> None:
    """A command run without a report (the search layer never imports the report layer)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def finished(cell_dir: Path) -> bool:
    """A cell.json that says so; a missing or half-written one means: run the cell again. One that is not a
    CellRecord raises: it belongs to another version of this code, and rerunning would delete it."""
    try:
        data = json.loads((cell_dir / CELL_JSON).read_text())
    except (OSError, ValueError):
        return False
    return CellRecord.model_validate(data).finished


def run_cell(cell: Cell, grid: Grid, backend: Backend, cell_dir: Path,
             judge: CellJudge = judge_cell) -> tuple[CellRecord, Judgement]:
    """Measure one cell from a clean folder, judge it once (`judge`: find judges the cell as a ramp step) and
    write its cell.json (finished: true)."""
    if cell_dir.exists():
        shutil.rmtree(cell_dir)  # a half-run cell from an interrupted sweep: start it again
    cell_dir.mkdir(parents=True)
    started, t0 = _now(), time.monotonic()
    events = backend.run_cell(cell, grid, cell_dir)
    try:
        summary = locust_summary(cell_dir, grid.slo.generator_cpu_pct)
    except (FileNotFoundError, ValueError, KeyError):
        summary = None  # Locust never ran or wrote nothing: the events say why
    metrics = cell_metrics(summary, read_samples(cell_dir / RESOURCES_CSV), events,
                           cell_cost(read_throttle(cell_dir), *load_window(cell_dir)))
    verdict = judge(cell_dir, cell, metrics, grid)
    record = CellRecord(cell=CellInfo.of(cell), status=verdict.status, reasons=verdict.reasons, metrics=metrics,
                        backend=backend.name, started_at=started, finished_at=_now(),
                        wall_s=round(time.monotonic() - t0, 1))
    record.write(cell_dir)
    return record, verdict


@contextmanager
def shielded() -> Iterator[None]:
    """Cleanup that a second Ctrl-C cannot cut short, so the stack is never left half restored (each step is
    bounded)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
