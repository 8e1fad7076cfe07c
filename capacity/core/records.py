"""The records that cross module boundaries: what a backend reports about a cell, and cell.json.

cell.json is written by campaign.cell and read by the reports, search and the tests, all through `CellRecord`:
an unknown or mistyped field is a validation error, not a silent None.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from capacity.core.cells import Cell
from capacity.core.grid import DEFAULT_CPU_PERIOD_MS
from capacity.core.status import Status

CELL_JSON = "cell.json"


@dataclass(frozen=True)
class CellEvents:
    """What a backend saw while a cell ran, besides Locust's files and the resource samples."""

    oom_killed: int = 0  # replicas killed over their memory limit
    restarts: int = 0  # replica restarts during the run
    error: str | None = None  # why the cell could not be measured (fully)
    notes: list[str] = field(default_factory=list)  # one line per event, for the report
    generator_hosts: dict[str, int] = field(default_factory=dict)  # Locust workers per host (docker backend)
    api_started: bool = True  # False: the replicas never became ready under the cell's limits
    generator_error: str | None = None  # Locust could not run the cell (capacity.core.cells.GeneratorError)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CellMetrics(_Strict):
    """The flat record judged by measure.slo and tabulated by report.sweep; None = not measured."""

    api_cpu_peak_pct: float | None = None  # % of one core, summed over replicas
    api_cpu_mean_pct: float | None = None
    api_mem_peak_mb: float | None = None  # one replica's peak
    lb_cpu_peak_pct: float | None = None
    lb_mem_peak_mb: float | None = None
    generator_cpu_sampled_pct: float | None = None  # per Locust process/container: one core at most
    generator_hosts: dict[str, int] = {}  # Locust workers that took part, per host ("local": the master's engine)
    samples: int = 0
    oom_killed: int = 0
    restarts: int = 0
    api_started: bool = True
    error: str | None = None
    generator_error: str | None = None  # the cell is INVALID: Locust, not the API, could not run it
    events: list[str] = []
    requests: int = 0
    failures: int = 0
    error_pct: float | None = None
    failures_per_s: float | None = None
    rps_mean: float | None = None
    rps_max: float | None = None
    latency_mean_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    users_reached: int = 0
    duration_s: float | None = None
    generator_valid: bool = True
    generator_reason: str | None = None
    generator_cpu_peak_pct: float | None = None
    # From the api's and the lb's cgroups over the load (measure/cost.py; docker backend): cores used, CPU per
    # request (us), the idle baseline before the load, throttling; each replica's own under api_replicas_cost.
    api_cpu_cores: float | None = None
    api_requests: int | None = None
    api_us_per_request: float | None = None
    api_idle_cores: float | None = None
    api_throttled_share: float | None = None
    api_throttled_s: float | None = None
    api_replicas_cost: list[dict[str, Any]] = []
    lb_cpu_cores: float | None = None
    lb_requests: int | None = None
    lb_us_per_request: float | None = None
    lb_idle_cores: float | None = None
    lb_throttled_share: float | None = None
    lb_throttled_s: float | None = None
    host_cpu_cores: float | None = None  # the whole machine over the load: api + lb + generator + the rest
    failure_kinds: list[dict[str, Any]] = []  # loadtest.summary's failure rows, the first ten
    quality: dict[str, Any] | None = None  # loadtest.summary's answer check


class CellInfo(_Strict):
    """The cell's knobs, as `Cell.as_dict()` writes them (slug, label and total CPU included for readers)."""

    index: int
    cpus: float
    memory: str
    replicas: int
    processes: int
    cpu_period_ms: int = DEFAULT_CPU_PERIOD_MS  # absent from the cell.json files written before the knob
    slug: str
    label: str
    total_cpus: float

    @classmethod
    def of(cls, cell: Cell) -> CellInfo:
        return cls(**cell.as_dict())

    def to_cell(self) -> Cell:
        return Cell(self.index, self.cpus, self.memory, self.replicas, self.processes, self.cpu_period_ms)


class CellRecord(_Strict):
    """One cell's cell.json."""

    cell: CellInfo
    status: Status
    reasons: list[str]
    metrics: CellMetrics
    backend: str
    started_at: str
    finished_at: str
    wall_s: float
    finished: bool = True

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) or "SLO held"

    @classmethod
    def read(cls, cell_dir: Path) -> CellRecord:
        return cls.model_validate_json((cell_dir / CELL_JSON).read_text())

    def write(self, cell_dir: Path) -> None:
        (cell_dir / CELL_JSON).write_text(self.model_dump_json(indent=2) + "\n")
