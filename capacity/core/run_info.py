"""run.json: what a sweep, redline or find run asked, on which backend and machine, with which code.

Written and read only through `RunInfo` (campaign.run opens and resumes it; the reports read it). The fields a
run was made with are the ones written back (`exclude_unset`), so a run.json from older code keeps its shape.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

RUN_JSON = "run.json"
SWEEP_ORDER = ("grid", "backend", "started_at", "cells_total", "notes", "machine")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RedlineParams(_Record):
    """`python -m capacity redline`'s options: ramps per configuration, users per step (None: by CPU), the
    headroom chart's N, and a file to flock per ramp on a shared Docker engine (campaign.engine)."""

    repeats: int = 1
    step: int | None = None
    target_users: int = 10_000
    lock: str | None = None


class FindParams(_Record):
    """`python -m capacity find`'s options (a prediction: users, predict, knees)."""

    users: int
    predict: bool = False
    duration: float | None = None
    ladder: list[float] = []
    replicas: list[int] = []
    repeats: int = 3
    margin: float = 0.25
    memory: str | None = None  # fixed: no probe
    knees: str | None = None  # a redline run folder (rules configurations out, or the prediction's knees)
    lock: str | None = None

    def same_question(self, other: FindParams) -> bool:
        return self.model_dump(exclude={"lock"}) == other.model_dump(exclude={"lock"})


class Machine(_Record):
    cpus: int | None
    platform: str
    code: str = "not recorded"  # runs before provenance was recorded have none


class RunInfo(_Record):
    kind: Literal["redline", "find"] | None = None  # None: a sweep
    grid: dict[str, Any]  # the grid as validated (core.grid.Grid's JSON)
    backend: str
    params: RedlineParams | FindParams | None = None
    cells_total: int | None = None  # a sweep's
    notes: list[str] = []
    started_at: str
    machine: Machine
    history: list[str] = []  # a redline run's raised ceilings

    @classmethod
    def read(cls, out: Path) -> RunInfo:
        data = json.loads((out / RUN_JSON).read_text())
        params = data.pop("params", None)
        info = cls.model_validate(data)
        if params is not None:  # by kind, not by whichever model happens to fit
            info.params = (RedlineParams if info.kind == "redline" else FindParams).model_validate(params)
        return info

    def write(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        (out / RUN_JSON).write_text(json.dumps(self.as_dict(), indent=2) + "\n")

    def as_dict(self) -> dict:
        data = self.model_dump(mode="json", exclude_unset=True)
        if self.kind is None:  # a sweep's run.json has always had its keys in this order
            data = {k: data[k] for k in SWEEP_ORDER if k in data} | data
        return data
