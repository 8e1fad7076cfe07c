"""Opening a run folder: run.json (core.run_info.RunInfo) created, or checked when the run is resumed.

A resumed run must have been made with the same kind, load, SLO, lb and backend (and a redline or find run with
the same options); anything else is a new run.
One exception: a redline run may raise its ramps' ceiling (`load.users`) while no measured ramp reached the old
one, so larger configurations join a run whose knees were all below it. run.json keeps that history.
"""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from capacity.core.grid import Grid, GridError
from capacity.core.knee_record import KNEE_JSON, KneeRecord
from capacity.core.provenance import code_version
from capacity.core.run_info import RUN_JSON, FindParams, Machine, RedlineParams, RunInfo

__all__ = ["RUN_JSON", "open_search_run", "open_sweep_run", "read_run"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_run(out: Path) -> dict:
    """run.json as written (validated by RunInfo)."""
    return RunInfo.read(out).as_dict()


def _new_run(grid: Grid, backend: str, notes: list[str], **fields) -> RunInfo:
    return RunInfo(grid=grid.model_dump(mode="json"), backend=backend, **fields, notes=notes, started_at=_now(),
                   machine=Machine(cpus=os.cpu_count(), platform=platform.platform(), code=code_version()))


def _same_tables(out: Path, run: RunInfo, current: dict, hint: str) -> None:
    for key in ("load", "slo", "lb"):
        if run.grid[key] != current[key]:
            raise GridError(f"{out}: made with a different `{key}` table; {hint}start a new --out")


def open_sweep_run(out: Path, grid: Grid, backend: str, notes: list[str], cells: int) -> dict:
    """Create run.json, or check that an existing run was made with the same load, SLO, lb and backend."""
    current = grid.model_dump(mode="json")
    if (out / RUN_JSON).exists():
        run = RunInfo.read(out)
        _same_tables(out, run, current, f"resume it with its own grid ({RUN_JSON}) or ")
        if run.backend != backend:
            raise GridError(f"{out}: made with the {run.backend} backend, not {backend}")
        run.grid = {**run.grid, "grid": current["grid"]}
        run.cells_total, run.notes = cells, notes
    else:
        run = _new_run(grid, backend, notes, cells_total=cells)
    run.write(out)
    return run.as_dict()


def open_search_run(out: Path, kind: str, grid: Grid, backend: str, notes: list[str],
                    params: RedlineParams | FindParams | dict) -> dict:
    """Create run.json, or check that the existing one asked the same question."""
    model = RedlineParams if kind == "redline" else FindParams
    params = params if isinstance(params, model) else model.model_validate(params)
    current = grid.model_dump(mode="json")
    if (out / RUN_JSON).exists():
        run = RunInfo.read(out)
        same = run.params is not None and params.model_dump(exclude={"lock"}) == run.params.model_dump(
            exclude={"lock"})
        if run.kind != kind or run.backend != backend or not same:
            raise GridError(f"{out}: made by another command, backend or options; start a new --out")
        if kind == "redline":
            _raise_ceiling(out, run, current["load"])
        _same_tables(out, run, current, "")
        run.notes = notes or run.notes  # a run resumed before its first turn keeps its notes
        run.grid = {**run.grid, "grid": current["grid"]}  # the configurations may grow: the latest is recorded
    else:
        run = _new_run(grid, backend, notes, kind=kind, params=params)
    run.write(out)
    return run.as_dict()


def _raise_ceiling(out: Path, run: RunInfo, load: dict) -> None:
    """Accept a higher `load.users` when every ramp measured so far ended below the old ceiling."""
    old = run.grid["load"]
    if old == load or {**old, "users": load["users"]} != load or load["users"] < old["users"]:
        return
    knees = sorted(out.glob(f"*/{KNEE_JSON}"))
    at_ceiling = [p.parent.name for p in knees if KneeRecord.read(p.parent).reached_ceiling]
    if at_ceiling:
        raise GridError(f"{out}: {', '.join(at_ceiling)} reached the old ceiling of {old['users']:,} users; "
                        "raising it needs a new --out")
    run.history = [*run.history, f"{_now()}: max users raised from {old['users']:,} to {load['users']:,}; the "
                   f"{len(knees)} ramp(s) measured before all ended below {old['users']:,}"]
    run.grid = {**run.grid, "load": load}
