"""The sweep: every cell of the grid through a backend, one cell.json each. Resumable (the CLI writes the report)."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from capacity.campaign.cell import Backend, Report, finished, no_report, run_cell, shielded
from capacity.campaign.run import open_sweep_run
from capacity.core.cells import expand
from capacity.core.grid import Grid


def sweep(grid: Grid, backend: Backend, out: Path, progress: bool = True, report: Report = no_report) -> Path:
    """Run every unfinished cell; Ctrl-C stops the current cell, restores the backend, and `report(out)` (the
    CLI's report writer) still runs."""
    cells = expand(grid)
    notes = backend.prepare(grid, out)
    open_sweep_run(out, grid, backend.name, notes, len(cells))
    todo = [c for c in cells if not finished(out / c.slug)]
    bar = tqdm(total=len(cells), initial=len(cells) - len(todo), unit="cell", disable=not progress,
               dynamic_ncols=True)
    try:
        for cell in todo:
            bar.set_postfix_str(cell.slug)
            record, _ = run_cell(cell, grid, backend, out / cell.slug)
            bar.write(f"{cell.slug}: {record.status} ({record.reason})")
            bar.update()
    finally:
        bar.close()
        with shielded():
            backend.close()
            report(out)
    return out
