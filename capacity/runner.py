"""The sweep: every cell of the grid through a backend, one cell.json each, then the report. Resumable."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from capacity.cells import Cell, expand
from capacity.cost import cell_cost
from capacity.grid import Grid, GridError
from capacity.metrics import RESOURCES_CSV, cell_metrics, locust_summary, read_samples
from capacity.provenance import code_version
from capacity.records import CELL_JSON, CellEvents, CellInfo, CellRecord
from capacity.report import RUN_JSON, write_report
from capacity.slo import judge
from capacity.steps import load_window
from capacity.throttle import read_throttle


class Backend(Protocol):
    name: str

    def prepare(self, grid: Grid, out: Path) -> list[str]: ...

    def run_cell(self, cell: Cell, grid: Grid, cell_dir: Path) -> CellEvents: ...

    def close(self) -> None: ...


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


def open_run(out: Path, grid: Grid, backend: str, notes: list[str], cells: int) -> dict:
    """Create run.json, or check that an existing run was made with the same load, SLO, lb and backend."""
    run_file = out / RUN_JSON
    current = grid.model_dump(mode="json")
    if run_file.exists():
        run = json.loads(run_file.read_text())
        for key in ("load", "slo", "lb"):
            if run["grid"][key] != current[key]:
                raise GridError(f"{out}: made with a different `{key}` table; resume it with its own grid "
                                f"({RUN_JSON}) or start a new --out")
        if run["backend"] != backend:
            raise GridError(f"{out}: made with the {run['backend']} backend, not {backend}")
        run["grid"]["grid"], run["cells_total"], run["notes"] = current["grid"], cells, notes
    else:
        run = {"grid": current, "backend": backend, "started_at": _now(), "cells_total": cells, "notes": notes,
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "code": code_version()}}
    out.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps(run, indent=2) + "\n")
    return run


def run_cell(cell: Cell, grid: Grid, backend: Backend, cell_dir: Path) -> CellRecord:
    """Measure one cell from a clean folder and write its cell.json (finished: true)."""
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
    verdict = judge(metrics, grid.slo, grid.load)
    record = CellRecord(cell=CellInfo.of(cell), status=verdict.status, reasons=verdict.reasons, metrics=metrics,
                        backend=backend.name, started_at=started, finished_at=_now(),
                        wall_s=round(time.monotonic() - t0, 1))
    record.write(cell_dir)
    return record


@contextmanager
def shielded() -> Iterator[None]:
    """Cleanup that a second Ctrl-C cannot cut short, so the stack is never left half restored (each step is
    bounded)."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def sweep(grid: Grid, backend: Backend, out: Path, progress: bool = True) -> Path:
    """Run every unfinished cell; Ctrl-C stops the current cell, restores the backend and keeps the report."""
    cells = expand(grid)
    notes = backend.prepare(grid, out)
    open_run(out, grid, backend.name, notes, len(cells))
    todo = [c for c in cells if not finished(out / c.slug)]
    bar = tqdm(total=len(cells), initial=len(cells) - len(todo), unit="cell", disable=not progress,
               dynamic_ncols=True)
    try:
        for cell in todo:
            bar.set_postfix_str(cell.slug)
            record = run_cell(cell, grid, backend, out / cell.slug)
            bar.write(f"{cell.slug}: {record.status} ({record.reason})")
            bar.update()
    finally:
        bar.close()
        with shielded():
            backend.close()
            write_report(out)
    return out
