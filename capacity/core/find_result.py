"""find.json: a find run's search or prediction, written and read only through `FindResult`.

`save` validates what a command produced and writes it with its keys in the order they were given (a search and
a prediction have always written theirs differently); `read` is what the report and `--confirms` use. Fields an
older or partial file lacks take their defaults; an unknown or mistyped field is an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from capacity.core.records import CellInfo
from capacity.core.status import Status

FIND_JSON = "find.json"
FindStatus = Literal["CONFIRMED", "NOT FOUND", "INVALID", "INTERRUPTED", "PREDICTED", "OUT OF RANGE"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Answer(_Record):
    replicas: int
    cpus: float
    memory: str | None
    total_cpus: float


class Probe(_Record):
    status: str  # a Status, or "skipped" (memory given)
    reasons: list[str]


class Boundary(_Record):
    """Per replica count: the cheapest CPU that held, the rung under it, what the knees ruled out, and every
    measured outcome per rung."""

    replicas: int
    cpus: float | None
    below: float | None
    ruled_out: float | None = None
    outcomes: dict[str, list[Status]]


class Measurement(_Record):
    """One measured cell of the search (`<slug>-m<k>/` or the probe), judged at its N users."""

    folder: str
    cell: CellInfo
    status: Status
    reasons: list[str]
    step: dict[str, Any] | None  # the cell judged as a ramp step (measure.ramp.StepVerdict.as_dict)
    api_mem_peak_mb: float | None


class FindResult(_Record):
    users: int
    status: FindStatus
    answer: Answer | None = None
    # a search's
    memory: str | None = None
    probe: Probe | None = None
    knees_run: str | None = None
    ruled_out: dict[str, float] = {}
    boundaries: list[Boundary] = []
    cells: int = 0
    grid_cells: int | None = None
    log: list[Measurement] = []
    # a prediction's (search.knees.prediction)
    knees: int | None = None
    fit: str | None = None
    fit_model: str | None = None
    fit_coef: list[Any] = []
    loo_mean_pct: float | None = None
    loo_max_pct: float | None = None
    loo: list[list[Any]] = []  # [label, measured req/s, predicted req/s] per knee left out
    think_time_s: float | None = None
    offered_rps: float | None = None
    response_ms: float | None = None
    predicted_rps: float | None = None
    workers: int | None = None
    # the queueing model beside the fit (search.queueing; predictions since 2026-12-06): which of the two answered
    # (the smaller mean held-out error), its description, its cost [a us, w us] (search.cost_curve), its
    # held-out errors and [label, measured req/s, predicted req/s, measured users, predicted users, ramp step] per
    # knee held out, its knee for its answer, and each model's answer
    model: Literal["fit", "queueing"] | None = None
    queueing: str | None = None
    queueing_cost: list[float] = []
    queueing_loo_mean_pct: float | None = None
    queueing_loo_max_pct: float | None = None
    queueing_loo: list[list[Any]] = []
    queueing_knee_users: int | None = None
    answers: dict[str, Answer | None] = {}
    confirmed_by: str | None = None  # the find run that confirmed this prediction

    @classmethod
    def save(cls, out: Path, data: dict) -> FindResult:
        """Validate `data` and write it as find.json, keys in the given order."""
        result = cls.model_validate(data)
        dumped = result.model_dump(mode="json", exclude_unset=True)
        (out / FIND_JSON).write_text(json.dumps({k: dumped[k] for k in data}, indent=2) + "\n")
        return result

    @classmethod
    def confirm(cls, out: Path, by: str) -> FindResult:
        """Mark a prediction CONFIRMED by the find run `by` (its file otherwise as it was)."""
        return cls.save(out, json.loads((out / FIND_JSON).read_text()) | {"confirmed_by": by})

    @classmethod
    def read(cls, out: Path) -> FindResult:
        return cls.model_validate_json((out / FIND_JSON).read_text())
