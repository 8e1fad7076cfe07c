"""`python -m capacity find --users N`: the cheapest deployment that holds N users, by search (capacity.search.bisect).

1. Probe: one cell at the ladder's top CPU, the fewest replicas and a generous memory limit (the grid's first),
   plus the start-up of that configuration: the peak RSS at load and while loading the model give the memory
   limit every later cell runs with (capacity.search.bisect.memory_limit: + margin). An INVALID probe means this
   machine cannot generate N users: the search stops and says so (predict from knees instead).
2. Search: per replica count, bisect the CPU per replica; the boundary measured `repeats` times on both sides.
   With `knees` (a redline run with the same SLO and think time), the configurations whose every ramp failed
   at N users or fewer, and the rungs under them, are ruled out unmeasured (capacity.search.knees.ruled_out).
   Every later cell checks the memory limit: an OOM kill raises it one rung and measures the cell again.
Each measurement is a folder `<slug>-m<k>` (k-th measurement of that cell) holding a sweep cell's files; a
resumed run reads finished folders back, so the search replays to where it stopped.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from capacity.backends.startup import STARTUP_JSON, measure_startup
from capacity.campaign.cell import Backend, Report, finished, no_report, run_cell, shielded
from capacity.campaign.engine import Turns
from capacity.campaign.run import open_search_run
from capacity.core.cells import Cell
from capacity.core.find_result import FindResult
from capacity.core.grid import Grid, GridError
from capacity.core.records import CellRecord
from capacity.core.run_info import RUN_JSON, FindParams
from capacity.core.settings import Settings
from capacity.core.status import INVALID
from capacity.measure.ramp import judge_at_users
from capacity.search.bisect import Search, memory_limit, next_memory
from capacity.search.knees import ruled_out

MAX_MEMORY_RAISES = 3


def fixed_grid(grid: Grid, users: int, duration_s: float) -> Grid:
    load = grid.load.model_copy(update={"shape": "none", "users": users, "duration": duration_s})
    return grid.model_copy(update={"load": load})


class Finder:
    def __init__(self, grid: Grid, backend: Backend, out: Path, settings: Settings, memory: str, bar: tqdm):
        self.grid, self.backend, self.out, self.settings, self.memory, self.bar = \
            grid, backend, out, settings, memory, bar
        self.counts: dict[str, int] = {}
        self.turns: Turns = Turns(None, backend, lambda: None)
        self.log: list[dict] = []
        self.startup_peak_mb: float | None = None

    def cell(self, replicas: int, cpus: float, memory: str | None = None) -> Cell:
        return Cell(len(self.log) + 1, cpus, memory or self.memory, replicas, 1, self.grid.grid.cpu_period_ms[0])

    def run(self, cell: Cell, name: str, startup: bool = False) -> tuple[str, list[str], CellRecord]:
        """Measure (or read back) one cell; `startup`: its start-up first, in the same turn."""
        cell_dir, startup_dir = self.out / name, self.out / "startup" / cell.slug
        if finished(cell_dir):  # judged again from its files, by the current rules
            record = CellRecord.read(cell_dir)
            verdict = judge_at_users(cell_dir, cell, record.metrics, self.grid)
            if startup and (startup_dir / STARTUP_JSON).exists():
                self.startup_peak_mb = measure_startup(self.backend, cell, self.grid.lb,
                                                       startup_dir).peak_mem_mb
        else:
            with self.turns():
                if startup:
                    self.startup_peak_mb = measure_startup(self.backend, cell, self.grid.lb,
                                                           startup_dir).peak_mem_mb
                record, verdict = run_cell(cell, self.grid, self.backend, cell_dir, judge_at_users)
        status, reasons, step = verdict.status, verdict.reasons, verdict.step
        self.log.append({"folder": name, "cell": cell.as_dict(), "status": status, "reasons": reasons, "step": step,
                         "api_mem_peak_mb": record.metrics.api_mem_peak_mb})
        self.bar.write(f"{name}: {status} ({'; '.join(reasons) or 'SLO held'})")
        self.bar.update()
        return status, reasons, record

    def measure(self, replicas: int, cpus: float) -> str:
        for _ in range(MAX_MEMORY_RAISES + 1):
            cell = self.cell(replicas, cpus)
            self.counts[cell.slug] = self.counts.get(cell.slug, 0) + 1
            status, _, record = self.run(cell, f"{cell.slug}-m{self.counts[cell.slug]}")
            if not record.metrics.oom_killed and record.metrics.api_started:
                return status  # (never started: e.g. the model-load child killed over the limit)
            self.memory = next_memory(self.memory)  # the limit did not hold: raise it, measure again
        return status

    def probe(self, replicas: int, cpus: float, memory: str, margin: float) -> tuple[str, str, list[str]]:
        """The memory limit for the search from the probe's peaks; the probe's status and reasons."""
        cell = self.cell(replicas, cpus, memory)
        status, reasons, record = self.run(cell, f"probe-{cell.slug}", startup=True)
        peaks = [record.metrics.api_mem_peak_mb, self.startup_peak_mb]
        return status, memory_limit(peaks, margin) if any(peaks) else memory, reasons


def _result(search: Search | None, probe: tuple, finder: Finder, params: FindParams) -> dict:
    result = search.run() if search else None
    answer = result.answer if result else None
    return {"users": params.users, "memory": finder.memory, "probe": {"status": probe[0], "reasons": probe[2]},
            "knees_run": params.knees,
            "ruled_out": {str(r): c for r, c in (search.ruled_out if search else {}).items()},
            "status": "CONFIRMED" if answer else ("INVALID" if probe[0] == INVALID else "NOT FOUND"),
            "answer": None if answer is None else {"replicas": answer.replicas, "cpus": answer.cpus,
                                                   "memory": finder.memory, "total_cpus": answer.total_cpus},
            "boundaries": [] if result is None else [
                {"replicas": b.replicas, "cpus": b.cpus, "below": b.below, "ruled_out": b.ruled_out,
                 "outcomes": {f"{c:g}": o for c, o in b.outcomes.items()}} for b in result.boundaries],
            "cells": len(finder.log), "grid_cells": result.grid_cells if result else None, "log": finder.log}


def _ruled_out(grid: Grid, params: FindParams) -> dict[int, float]:
    if not params.knees:
        return {}
    knees = Path(params.knees)
    if not (knees / RUN_JSON).is_file():
        raise GridError(f"--knees {knees}: not a redline run folder (no run.json)")
    try:
        return ruled_out(knees, params.users, grid.slo.model_dump(mode="json"), grid.load.model_dump(mode="json"))
    except ValueError as exc:
        raise GridError(f"--knees {exc}") from None


def find(grid: Grid, backend: Backend, out: Path, settings: Settings, params: FindParams, progress: bool = True,
         report: Report = no_report) -> dict:
    """params: users, duration, ladder, replicas, repeats, margin, memory (fixed: no probe), knees (a redline run
    folder that rules configurations out, or None), lock (a file to flock per cell on a shared Docker engine:
    capacity.campaign.engine)."""
    g = fixed_grid(grid, params.users, params.duration)
    lock = Path(params.lock) if params.lock else None
    ruled = _ruled_out(g, params)
    open_search_run(out, "find", g, backend.name, [], params)  # a resumed run is checked before any wait
    bar = tqdm(unit="cell", disable=not progress, dynamic_ncols=True)
    finder = Finder(g, backend, out, settings, params.memory or grid.grid.memory[0], bar)
    finder.turns = Turns(lock, backend, lambda: open_search_run(out, "find", g, backend.name,
                                                                backend.prepare(g, out), params))
    probe: tuple = ("skipped", finder.memory, ["memory given"])
    data = {"users": params.users, "status": "INTERRUPTED", "memory": finder.memory, "log": finder.log,
            "cells": 0, "answer": None, "boundaries": [], "probe": None, "grid_cells": None}
    try:
        if not params.memory:
            probe = finder.probe(min(params.replicas), max(params.ladder), finder.memory, params.margin)
            finder.memory = probe[1]
        search = None if probe[0] == INVALID else Search(params.ladder, params.replicas, finder.measure,
                                                         params.repeats, ruled)
        data = _result(search, probe, finder, params)
    finally:
        bar.close()
        with shielded():
            if lock is None:  # with a lock every turn already restored the stack
                backend.close()
            data["cells"] = len(finder.log)
            FindResult.save(out, data)
            report(out)
    return data
