"""`python -m capacity redline`: one Locust ramp per configuration (and repeat), its steps judged, the knee kept.

Per configuration of the grid (cpus x memory x replicas x processes): the start-up is measured once
(startup/<slug>.json), then each repeat runs one ramp (+step users every load.step_duration, up to load.users,
no hold) in `<slug>-r<k>/` through the sweep's own `run_cell`, so the folder holds Locust's files, resources.csv
and cell.json as a sweep cell does, plus knee.json. A watcher stops Locust early once a step has clearly
failed or a finished step did not pass (there is nothing left to learn above it). Resumable: finished folders are
read back; Ctrl-C keeps what was measured (the CLI then rebuilds the report).
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from capacity.backends.startup import measure_startup
from capacity.campaign.cell import Backend, Report, finished, no_report, run_cell, shielded
from capacity.campaign.engine import Turns
from capacity.campaign.run import open_search_run
from capacity.core.cells import Cell, expand
from capacity.core.grid import Grid
from capacity.core.knee_record import KNEE_JSON, KneeRecord
from capacity.core.periodic import Periodic
from capacity.core.run_info import RedlineParams
from capacity.core.settings import Settings
from capacity.core.status import PASS
from capacity.measure.ramp import clearly_failed, judge_ramp, settle_for, step_users_for
from capacity.measure.steps import history_file, read_history
from capacity.search.knees import STOPPED, judge_knee, ramp_grid


class EarlyStop(Periodic):
    """Watch the ramp's history; call `stop` once a step has clearly failed or a finished step did not pass."""

    def __init__(self, cell_dir: Path, grid: Grid, stop, interval: float = 2.0):
        super().__init__("capacity-early-stop", interval, join_timeout=10)
        self.cell_dir, self.grid, self.stop_load = cell_dir, grid, stop
        self.reason: str | None = None

    def tick(self) -> bool:
        load, slo = self.grid.load, self.grid.slo
        try:
            rows = read_history(history_file(self.cell_dir))
            verdicts = judge_ramp(self.cell_dir, slo, load.think_time_s, load.step_users, load.step_duration, [])
        except (OSError, ValueError, KeyError, IndexError):
            return False  # a file half written: read it again next time
        done = [v for v in verdicts if v.step.complete and v.status != PASS]
        self.reason = (f"{done[0].step.users:,}-user step {done[0].status.upper()}" if done
                       else clearly_failed(rows, slo, settle_for(load.step_duration)))
        if self.reason:
            self.stop_load()
            return True
        return False


def configurations(grid: Grid, step: int | None) -> list[tuple[Cell, Grid]]:
    return [(cell, ramp_grid(grid, step or step_users_for(cell.total_cpus, grid.load.step_users)))
            for cell in expand(grid)]


def _measure(cell: Cell, grid: Grid, backend: Backend, cell_dir: Path) -> KneeRecord:
    stopper = EarlyStop(cell_dir, grid, backend.stop_load)
    stopper.start()
    try:
        run_cell(cell, grid, backend, cell_dir)
    finally:
        stopper.stop()
    if stopper.reason:
        (cell_dir / STOPPED).write_text(stopper.reason + "\n")
    knee = judge_knee(cell_dir, cell, grid)
    knee.write(cell_dir)
    return knee


def next_ramp(todo: list[tuple[Cell, Grid, int]], out: Path) -> tuple[Cell, Grid, int]:
    """Every configuration's first ramp, in grid order; then the repeats of configurations whose ramps so far all
    ended on a FAIL step (real knees: their spread is part of the answer); then the other repeats (lower bounds,
    where the generator or the host ran out first). An interrupted campaign has seen every configuration."""
    def rank(job: tuple[Cell, Grid, int]) -> tuple[int, int, int]:
        cell, _, k = job
        knees = [KneeRecord.read(p.parent) for p in sorted(out.glob(f"{cell.slug}-r*/{KNEE_JSON}"))]
        return (0 if not knees else 1 if all(r.ended_on_fail for r in knees) else 2), k, cell.index

    return min(todo, key=rank)


def redline(grid: Grid, backend: Backend, out: Path, settings: Settings, params: RedlineParams, progress: bool = True,
            report: Report = no_report) -> Path:
    """Every configuration's ramps (params.repeats each); the report is `report(out)`, also after Ctrl-C."""
    repeats, lock = params.repeats, Path(params.lock) if params.lock else None
    configs = configurations(grid, params.step)
    open_search_run(out, "redline", grid, backend.name, [], params)  # a resumed run is checked before any wait
    turns = Turns(lock, backend, lambda: open_search_run(out, "redline", grid, backend.name,
                                                         backend.prepare(grid, out), params))
    jobs = [(cell, g, k) for cell, g in configs for k in range(1, repeats + 1)]
    todo = [j for j in jobs if not finished(out / f"{j[0].slug}-r{j[2]}")]
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), unit="ramp", disable=not progress, dynamic_ncols=True)
    try:
        while todo:
            job = next_ramp(todo, out)
            todo.remove(job)
            cell, g, k = job
            bar.set_postfix_str(f"{cell.slug} r{k}")
            with turns():
                started = measure_startup(backend, cell, grid.lb, out / "startup" / cell.slug)
                bar.write(f"{cell.slug}: ready in {started.ready_s} s, {started.peak_mem_mb} MiB while loading")
                knee = _measure(cell, g, backend, out / f"{cell.slug}-r{k}")
            bar.write(f"{cell.slug} r{k}: {knee.kind} {knee.users:,} users ({knee.ended_by})")
            bar.update()
    finally:
        bar.close()
        with shielded():
            if lock is None:  # with a lock every turn already restored the stack
                backend.close()
            report(out)
    return out
