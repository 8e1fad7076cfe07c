"""knee.json: one redline ramp judged (its knee, why it ended, every step), written and read only here; and a
configuration's knee over its repeats (ConfigurationKnee, the rows of knees.csv).

The redline command writes it after each ramp; the report judges every ramp again from its files (the current
rules) and writes nothing. Fields an older or partial file lacks take their defaults; an unknown or mistyped
field is an error.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from capacity.core.records import CellInfo

KNEE_JSON = "knee.json"
AT_CEILING = "max users "  # ended_by of a ramp whose every step held, up to the run's `load.users`


class KneeRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: int = 0  # the last PASS step (0: not even the first step held)
    delivered_rps: float | None = None
    step: dict | None = None  # the knee step's record (measure.ramp.StepVerdict.as_dict)
    ended_by: str = ""  # why the ramp stopped
    # "knee" (a FAIL step followed) | "lower bound" (INVALID or max users ended it) | "none" (the first step failed)
    kind: Literal["knee", "lower bound", "none"] | None = None
    steps: list[dict] = []
    cell: CellInfo | None = None
    step_users: int | None = None
    early_stop: str | None = None  # why the watcher stopped the load early

    @property
    def ended_on_fail(self) -> bool:
        """A ramp that a FAIL step ended (a real knee, or none when the first step failed), not one the
        generator, the host or the ceiling ended."""
        return self.kind in ("knee", "none")

    @property
    def reached_ceiling(self) -> bool:
        """A ramp that held every step up to the run's ceiling."""
        return self.ended_by.startswith(AT_CEILING)

    @classmethod
    def read(cls, cell_dir: Path) -> KneeRecord:
        return cls.model_validate_json((cell_dir / KNEE_JSON).read_text())

    def write(self, cell_dir: Path) -> None:
        (cell_dir / KNEE_JSON).write_text(json.dumps(self.model_dump(mode="json"), indent=2) + "\n")


Number = int | float  # a median keeps the type statistics gives it (knees.csv prints 900, not 900.0)


@dataclass(frozen=True)
class ConfigurationKnee:
    """One configuration of a redline run over its repeats (search.knees.configurations): the median knee and its
    spread, the knee step's numbers (medians), start-up and cost. knees.csv's row, the knee table's, the fit's."""

    slug: str
    label: str
    replicas: int
    cpus: float
    memory: str
    total_cpus: float
    total_memory_mb: int
    repeats: int
    kind: str  # "knee" (every repeat), "none" (every repeat), else "lower bound"
    users: Number | None
    users_min: int
    users_max: int
    rps: Number | None
    p50_ms: Number | None
    p95_ms: Number | None
    p99_ms: Number | None
    response_ms: Number | None
    api_cpu_cores_mean: Number | None
    generator_cpu_peak_pct: Number | None
    errors: int
    api_mem_peak_mb: Number | None
    throttled: Number | None
    ended_by: list[str]
    early_stop: list[str | None]
    startup: dict = field(default_factory=dict)  # startup.json (backends.startup.Startup), {} if not measured
    # CPU per request at the knee step (measure/cost.py: cgroups, docker runs since 2026-12-06), median.
    api_us_per_request: Number | None = None
    lb_us_per_request: Number | None = None

    def __getitem__(self, column: str):
        """Read-only access by column name, as knees.csv names them."""
        return getattr(self, column)

    def as_dict(self) -> dict:
        return asdict(self)
