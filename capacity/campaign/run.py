"""run.json of a `redline` or `find` run: what was asked, on which backend and machine, with which code.

A resumed run must have been made with the same kind, load, SLO, lb and backend; anything else is a new run.
One exception: a redline run may raise its ramps' ceiling (`load.users`) while no measured ramp reached the old
one, so larger configurations join a run whose knees were all below it. run.json keeps that history.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

from capacity.core.grid import Grid, GridError
from capacity.core.provenance import code_version
from capacity.measure.ramp import reached_ceiling

RUN_JSON = "run.json"


def read_run(out: Path) -> dict:
    return json.loads((out / RUN_JSON).read_text())


def open_search_run(out: Path, kind: str, grid: Grid, backend: str, notes: list[str], params: dict) -> dict:
    """Create run.json, or check that the existing one asked the same question."""
    path = out / RUN_JSON
    current = grid.model_dump(mode="json")
    if path.exists():
        run = read_run(out)
        same = {k: v for k, v in params.items() if k != "lock"} == {k: v for k, v in run.get("params", {}).items()
                                                                     if k != "lock"}
        if run.get("kind") != kind or run["backend"] != backend or not same:
            raise GridError(f"{out}: made by another command, backend or options; start a new --out")
        if kind == "redline":
            _raise_ceiling(out, run, current["load"])
        for key in ("load", "slo", "lb"):
            if run["grid"][key] != current[key]:
                raise GridError(f"{out}: made with a different `{key}` table; start a new --out")
        run["notes"] = notes or run.get("notes", [])  # a run resumed before its first turn keeps its notes
        run["grid"]["grid"] = current["grid"]  # the configurations may grow: the latest grid is recorded
    else:
        run = {"kind": kind, "grid": current, "backend": backend, "params": params, "notes": notes,
               "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "code": code_version()}}
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(run, indent=2) + "\n")
    return run


def _raise_ceiling(out: Path, run: dict, load: dict) -> None:
    """Accept a higher `load.users` when every ramp measured so far ended below the old ceiling."""
    old = run["grid"]["load"]
    if old == load or {**old, "users": load["users"]} != load or load["users"] < old["users"]:
        return
    knees = sorted(out.glob("*/knee.json"))
    at_ceiling = [p.parent.name for p in knees if reached_ceiling(json.loads(p.read_text()))]
    if at_ceiling:
        raise GridError(f"{out}: {', '.join(at_ceiling)} reached the old ceiling of {old['users']:,} users; "
                        "raising it needs a new --out")
    ramps = len(knees)
    run.setdefault("history", []).append(
        f"{datetime.now(UTC).isoformat(timespec='seconds')}: max users raised from {old['users']:,} to "
        f"{load['users']:,}; the {ramps} ramp(s) measured before all ended below {old['users']:,}")
    run["grid"]["load"] = load
