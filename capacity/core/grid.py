"""The experiment grid, read from TOML and validated before anything runs.

A grid file has four tables: `[grid]` (the deployment knobs swept: cpus, memory, replicas and server
processes per replica), `[load]` (what Locust offers every cell), `[slo]` (what a passing cell must hold)
and `[lb]` (the load balancer's fixed limits, the same in every cell), and optionally `[generators]` (Docker
endpoints of other hosts that run more Locust workers). Every error names its field, e.g.
`grid.cpus[2]: must be > 0, got -1`.
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from capacity.core.endpoints import check_endpoint, parse_endpoints

_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)([kmg]?)$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
DOCKER_MIN_MEMORY = 6 * 1024**2  # Docker refuses a memory limit below 6 MiB


DEFAULT_CPU_PERIOD_MS = 100  # CFS period, Docker's default


class GridError(ValueError):
    """A grid file that cannot be run; the message lists every problem, one per line, naming the field."""


def memory_bytes(value: str) -> int:
    """'512M' -> 536870912 (Docker's units: b, k, m, g; binary multiples)."""
    match = _MEMORY.match(value.strip())
    if not match:
        raise ValueError(f"must look like 512M, 1G or 300000000, got {value!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def _duration_s(value: object) -> object:
    """90, 90.0, '90s', '3m', '1h30m' -> seconds (float); anything else is left to pydantic to reject."""
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if not match or not value.strip():
            raise ValueError(f"must be seconds or like '90s', '3m', '1h30m', got {value!r}")
        h, m, s = (int(g or 0) for g in match.groups())
        return float(h * 3600 + m * 60 + s)
    return value


def _memory_str(value: str) -> str:
    if memory_bytes(value) < DOCKER_MIN_MEMORY:
        raise ValueError(f"must be at least 6M (Docker's minimum), got {value!r}")
    return value


MemoryStr = Annotated[str, AfterValidator(_memory_str)]
Seconds = Annotated[float, BeforeValidator(_duration_s), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Knobs(_Strict):
    """The swept deployment knobs; every combination is one cell."""

    cpus: list[Annotated[float, Field(gt=0, le=64)]] = Field(min_length=1)
    memory: list[MemoryStr] = Field(min_length=1)
    replicas: list[Annotated[int, Field(ge=1, le=32)]] = Field(min_length=1)
    processes: list[Annotated[int, Field(ge=1, le=32)]] = Field(default=[1], min_length=1)
    # the replicas' CFS period (ms): Docker's and Kubernetes' default is 100; a quota below ~0.25 core stalls up
    # to (1 - cpus) x period whenever it runs out, so a shorter period trades stall length for more of them
    cpu_period_ms: list[Annotated[int, Field(ge=1, le=1000)]] = Field(default=[DEFAULT_CPU_PERIOD_MS], min_length=1)

    @model_validator(mode="after")
    def _no_duplicates(self) -> Knobs:
        for cpus, period in itertools.product(self.cpus, self.cpu_period_ms):
            if cpus * period < 1:
                raise ValueError(f"{cpus:g} CPU at a {period} ms period is a {cpus * period:g} ms quota: the "
                                 "kernel's minimum is 1 ms")
        for name in ("cpus", "memory", "replicas", "processes", "cpu_period_ms"):
            values = getattr(self, name)
            keys = [memory_bytes(v) for v in values] if name == "memory" else values
            if len(set(keys)) != len(keys):
                raise ValueError(f"{name}: duplicate values in {values}")
        return self


class Load(_Strict):
    """What the generator offers every cell. shape 'none' = -u/-r/-t; 'ramp' = +step_users every step_duration.
    generator: Locust (the default) or wrk (wrk/: the same users, ~1/3 of Locust's CPU per request)."""

    users: int = Field(ge=1, le=100_000)
    spawn_rate: float = Field(gt=0)
    duration: Seconds = 60.0  # 'none': the whole run; 'ramp': ignored, the stages decide
    shape: Literal["none", "ramp"] = "none"
    step_users: int = Field(500, ge=1)
    step_duration: Seconds = 60.0
    hold: Annotated[float, BeforeValidator(_duration_s), Field(ge=0)] = 120.0
    wait_min: float = Field(1.0, ge=0)
    wait_max: float = Field(2.5, ge=0)
    workers: int = Field(1, ge=0, le=64)  # Locust workers (docker backend); 0 = one local process
    warmup: Annotated[float, BeforeValidator(_duration_s), Field(ge=0)] = 0.0  # settle after /ready
    generator: Literal["locust", "wrk"] = "locust"

    @model_validator(mode="after")
    def _check(self) -> Load:
        if self.wait_max < self.wait_min:
            raise ValueError(f"wait_max must be >= wait_min ({self.wait_min}), got {self.wait_max}")
        return self

    @property
    def think_time_s(self) -> float:
        """A user's mean wait between requests (Locust's between(wait_min, wait_max)): Little's law's think time."""
        return (self.wait_min + self.wait_max) / 2

    @property
    def run_seconds(self) -> float:
        """How long Locust runs: the duration, or every ramp step plus the hold."""
        if self.shape == "none":
            return self.duration
        return math.ceil(self.users / self.step_users) * self.step_duration + self.hold


class Slo(_Strict):
    """A cell passes when every user was spawned, nothing failed and p95 stayed under the bound."""

    p95_ms: float = Field(500.0, gt=0)
    max_failures: int = Field(0, ge=0)
    users_ratio: float = Field(1.0, gt=0, le=1)  # users reached >= users_ratio * load.users
    generator_cpu_pct: float = Field(90.0, gt=0, le=100)  # above: the generator, not the API, was measured


class Lb(_Strict):
    """The load balancer's limits: fixed for the whole sweep so cells compare the api replicas only."""

    cpus: float = Field(0.5, gt=0, le=64)
    memory: MemoryStr = "256M"


class Generators(_Strict):
    """Locust workers on other Docker hosts (docker backend), started there for every cell and removed after it.
    A table of its own, not part of `[load]`: where the generator runs is not what it offers, so a run may be
    resumed with other endpoints (runner.open_run compares load, slo and lb)."""

    endpoints: list[Annotated[str, AfterValidator(check_endpoint)]] = []  # unix:///..., ssh://user@host, tcp://...
    workers_per_endpoint: int | None = Field(None, ge=1, le=64)  # None: load.workers on each endpoint

    @model_validator(mode="after")
    def _distinct(self) -> Generators:
        parse_endpoints(self.endpoints)
        return self


class Grid(_Strict):
    name: str = Field("grid", pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    grid: Knobs
    load: Load
    slo: Slo = Slo()
    lb: Lb = Lb()
    generators: Generators = Generators()


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "grid file"


_CONSTRAINTS = {"greater_than": "> {gt}", "greater_than_equal": ">= {ge}", "less_than_equal": "<= {le}",
                "less_than": "< {lt}"}


def _message(error: dict) -> str:
    ctx, kind = error.get("ctx") or {}, error["type"]
    if kind in _CONSTRAINTS:
        text = "must be " + _CONSTRAINTS[kind].format(**{k: f"{v:g}" if isinstance(v, float) else v
                                                         for k, v in ctx.items()})
    elif kind == "extra_forbidden":
        return f"{_where(error['loc'])}: unknown field (a typo?)"
    elif kind == "missing":
        return f"{_where(error['loc'])}: required"
    elif kind == "value_error":
        return f"{_where(error['loc'])}: {ctx.get('error', error['msg'])}"
    else:
        text = error["msg"][0].lower() + error["msg"][1:]
    return f"{_where(error['loc'])}: {text}, got {error.get('input')!r}"


def parse_grid(data: dict) -> Grid:
    try:
        return Grid.model_validate(data)
    except ValidationError as exc:
        raise GridError("\n".join(_message(e) for e in exc.errors(include_url=False))) from None


def load_grid(path: Path | str) -> Grid:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise GridError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise GridError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse_grid(data)
    except GridError as exc:
        raise GridError(f"{path}:\n{exc}") from None


def check_period_backend(grid: Grid, backend: str) -> Grid:
    """A CFS period other than Docker's default is written into the replicas' cgroups: the docker backend's job."""
    if grid.grid.cpu_period_ms != [DEFAULT_CPU_PERIOD_MS] and backend != "docker":
        raise GridError(f"grid.cpu_period_ms {grid.grid.cpu_period_ms} needs --backend docker, not {backend}")
    return grid


def with_worker_endpoints(grid: Grid, urls: list[str] | None, backend: str) -> Grid:
    """`--worker-endpoint URL...` replaces the grid's `[generators] endpoints`; only the docker backend has them."""
    if urls:
        data = grid.model_dump()
        data["generators"]["endpoints"] = urls
        grid = parse_grid(data)
    if grid.generators.endpoints and backend != "docker":
        raise GridError(f"worker endpoints (--worker-endpoint, [generators] endpoints) need --backend docker, "
                        f"not {backend}")
    return grid


def with_generator(grid: Grid, name: str | None) -> Grid:
    """`--generator locust|wrk` replaces the grid's `load.generator`."""
    if not name or name == grid.load.generator:
        return grid
    return grid.model_copy(update={"load": grid.load.model_copy(update={"generator": name})})


def check_machine(grid: Grid, cpu_count: int) -> None:
    """Limits this machine cannot give (Docker refuses cpus above the core count; pinning needs whole cores)."""
    problems = [f"grid.cpus[{i}]: must be <= {cpu_count} (this machine's cores), got {c:g}"
                for i, c in enumerate(grid.grid.cpus) if c > cpu_count]
    if grid.lb.cpus > cpu_count:
        problems.append(f"lb.cpus: must be <= {cpu_count} (this machine's cores), got {grid.lb.cpus:g}")
    if problems:
        raise GridError("\n".join(problems))
