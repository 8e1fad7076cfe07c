"""`python -m capacity redline`: one Locust ramp per configuration (and repeat), its steps judged, the knee kept.

Per configuration of the grid (cpus x memory x replicas x processes): the start-up is measured once
(startup/<slug>.json), then each repeat runs one ramp (+step users every load.step_duration, up to load.users,
no hold) in `<slug>-r<k>/` through the sweep's own `run_cell`, so the folder holds Locust's files, resources.csv
and cell.json as a sweep cell does, plus knee.json. A watcher stops Locust early once a step has clearly
failed or a finished step did not pass (there is nothing left to learn above it). Resumable: finished folders are
read back; Ctrl-C keeps what was measured and rebuilds the report.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from capacity.cells import Cell, expand
from capacity.engine import Turns
from capacity.grid import Grid
from capacity.records import CellRecord
from capacity.redline import PASS, Knee, clearly_failed, ended_on_fail, judge_ramp, knee_of, settle_for, step_users_for
from capacity.runner import Backend, finished, run_cell, shielded
from capacity.runs import open_search_run
from capacity.settings import Settings
from capacity.startup import measure_startup
from capacity.steps import history_file, read_history

KNEE_JSON = "knee.json"
STOPPED = "early_stop.txt"


def ramp_grid(grid: Grid, step_users: int) -> Grid:
    """The grid's load as a ramp of `step_users` steps up to load.users (rounded up to a whole step), no hold."""
    top = -(-grid.load.users // step_users) * step_users
    load = grid.load.model_copy(update={"shape": "ramp", "step_users": step_users, "users": top, "hold": 0.0})
    return grid.model_copy(update={"load": load})


def api_events(record: CellRecord) -> list[str]:
    m = record.metrics
    events = list(m.events)
    if m.restarts:
        events.append(f"{m.restarts} restart(s)")
    if m.error:
        events.append(m.error)
    return events


class EarlyStop(threading.Thread):
    """Watch the ramp's history; call `stop` once a step has clearly failed or a finished step did not pass."""

    def __init__(self, cell_dir: Path, grid: Grid, stop, interval: float = 2.0):
        super().__init__(name="capacity-early-stop", daemon=True)
        self.cell_dir, self.grid, self.stop_load, self.interval = cell_dir, grid, stop, interval
        self.reason: str | None = None
        self._done = threading.Event()

    def run(self) -> None:
        load, slo = self.grid.load, self.grid.slo
        while not self._done.wait(self.interval):
            try:
                rows = read_history(history_file(self.cell_dir))
                verdicts = judge_ramp(self.cell_dir, slo, (load.wait_min + load.wait_max) / 2, load.step_users,
                                      load.step_duration, [])
            except (OSError, ValueError, KeyError, IndexError):
                continue  # a file half written: read it again next time
            done = [v for v in verdicts if v.step.complete and v.status != PASS]
            self.reason = (f"{done[0].step.users:,}-user step {done[0].status.upper()}" if done
                           else clearly_failed(rows, slo, settle_for(load.step_duration)))
            if self.reason:
                self.stop_load()
                return

    def finish(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join(timeout=10)


def analyse(cell_dir: Path, cell: Cell, grid: Grid) -> Knee:
    """Judge the ramp recorded in `cell_dir` and write knee.json (rebuilt from the files on every report)."""
    record = CellRecord.read(cell_dir)
    load = grid.load
    verdicts = judge_ramp(cell_dir, grid.slo, (load.wait_min + load.wait_max) / 2, load.step_users,
                          load.step_duration, api_events(record), cell.total_cpus, record.metrics.generator_error)
    knee = knee_of(verdicts, load.users)
    error = record.metrics.error or record.metrics.generator_error
    if not verdicts and error:
        knee = replace(knee, ended_by=f"no step was measured: {error}")
    stopped = cell_dir / STOPPED
    data = {**knee.as_dict(), "cell": cell.as_dict(), "step_users": load.step_users,
            "early_stop": stopped.read_text().strip() if stopped.exists() else None}
    (cell_dir / KNEE_JSON).write_text(json.dumps(data, indent=2) + "\n")
    return knee


def configurations(grid: Grid, step: int | None) -> list[tuple[Cell, Grid]]:
    return [(cell, ramp_grid(grid, step or step_users_for(cell.total_cpus, grid.load.step_users)))
            for cell in expand(grid)]


def _measure(cell: Cell, grid: Grid, backend: Backend, cell_dir: Path) -> Knee:
    stopper = EarlyStop(cell_dir, grid, getattr(backend, "stop_load", lambda: None))
    stopper.start()
    try:
        run_cell(cell, grid, backend, cell_dir)
    finally:
        stopper.finish()
    if stopper.reason:
        (cell_dir / STOPPED).write_text(stopper.reason + "\n")
    return analyse(cell_dir, cell, grid)


def next_ramp(todo: list[tuple[Cell, Grid, int]], out: Path) -> tuple[Cell, Grid, int]:
    """Every configuration's first ramp, in grid order; then the repeats of configurations whose ramps so far all
    ended on a FAIL step (real knees: their spread is part of the answer); then the other repeats (lower bounds,
    where the generator or the host ran out first). An interrupted campaign has seen every configuration."""
    def rank(job: tuple[Cell, Grid, int]) -> tuple[int, int, int]:
        cell, _, k = job
        knees = [json.loads(p.read_text()) for p in sorted(out.glob(f"{cell.slug}-r*/{KNEE_JSON}"))]
        return (0 if not knees else 1 if all(map(ended_on_fail, knees)) else 2), k, cell.index

    return min(todo, key=rank)


def redline(grid: Grid, backend: Backend, out: Path, settings: Settings, params: dict, progress: bool = True) -> Path:
    """params: repeats (ramps per configuration), step (users per step; None = by CPU), target_users, lock (a
    file to flock per ramp on a shared Docker engine: capacity.engine)."""
    from capacity.search_report import write_redline_report

    repeats, lock = params["repeats"], params.get("lock")
    lock = Path(lock) if lock else None
    configs = configurations(grid, params.get("step"))
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
                started = measure_startup(backend.name, cell, grid.lb, settings, out / "startup" / cell.slug)
                bar.write(f"{cell.slug}: ready in {started.ready_s} s, {started.peak_mem_mb} MiB while loading")
                knee = _measure(cell, g, backend, out / f"{cell.slug}-r{k}")
            bar.write(f"{cell.slug} r{k}: {knee.kind} {knee.users:,} users ({knee.ended_by})")
            bar.update()
    finally:
        bar.close()
        with shielded():
            if lock is None:  # with a lock every turn already restored the stack
                backend.close()
            write_redline_report(out)
    return out
