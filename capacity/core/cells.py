"""A grid expands into cells: one deployment (cpus, memory, replicas, processes) each, with a stable slug."""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import labtools
from capacity.core.grid import DEFAULT_CPU_PERIOD_MS, Grid, Lb, Load, memory_bytes


class CellError(RuntimeError):
    """A cell (or a backend) could not be measured; the message is the reason shown in the report."""


class GeneratorError(CellError):
    """The load generator (Locust), not the API, could not run the cell: the measurement is INVALID, never a
    failure of the configuration."""


@dataclass(frozen=True)
class Cell:
    index: int  # position in the sweep (grid order), 1-based
    cpus: float  # per replica
    memory: str  # per replica, Docker's notation
    replicas: int
    processes: int  # server processes (WEB_CONCURRENCY) per replica
    cpu_period_ms: int = DEFAULT_CPU_PERIOD_MS  # the replicas' CFS period

    @property
    def default_period(self) -> bool:
        return self.cpu_period_ms == DEFAULT_CPU_PERIOD_MS

    @property
    def slug(self) -> str:
        """Stable folder name made of the values only, so a resumed run finds its cells again."""
        period = "" if self.default_period else f"-period{self.cpu_period_ms}ms"
        return f"cpu{self.cpus:g}-mem{self.memory}-x{self.replicas}-p{self.processes}{period}"

    @property
    def label(self) -> str:
        procs = f", {self.processes} proc" if self.processes != 1 else ""
        period = "" if self.default_period else f", {self.cpu_period_ms} ms period"
        return f"{self.replicas} x ({self.cpus:g} CPU, {self.memory}{procs}{period})"

    @property
    def memory_bytes(self) -> int:
        return memory_bytes(self.memory)

    @property
    def total_cpus(self) -> float:
        return self.cpus * self.replicas

    def cost(self) -> tuple[float, int, int]:
        """Cheapest first: total CPU (cpus x replicas), then total memory, then fewer processes."""
        return (round(self.total_cpus, 6), self.memory_bytes * self.replicas, self.processes)

    def env(self, lb: Lb) -> dict[str, str]:
        """The compose knobs this cell sets (the lb's are the same in every cell)."""
        return {
            "API_CPUS": f"{self.cpus:g}",
            "API_MEMORY": self.memory,
            "API_REPLICAS": str(self.replicas),
            "WEB_CONCURRENCY": str(self.processes),
            "LB_CPUS": f"{lb.cpus:g}",
            "LB_MEMORY": lb.memory,
        }

    def as_dict(self) -> dict:
        return {**asdict(self), "slug": self.slug, "label": self.label, "total_cpus": self.total_cpus}


def expand(grid: Grid) -> list[Cell]:
    """Every combination, in the grid's own order (cpus outermost, CFS period innermost)."""
    knobs = grid.grid
    combos = itertools.product(knobs.cpus, knobs.memory, knobs.replicas, knobs.processes, knobs.cpu_period_ms)
    return [Cell(i, *combo) for i, combo in enumerate(combos, start=1)]


def locust_env(load: Load) -> dict[str, str]:
    """This grid's load as a Locust run's environment: -u/-r/-t for the plain shape (the ramp shape sets users
    and the end itself), and the project locustfile's knobs (locust/loadtest/settings.py)."""
    knobs = {"wait_min": load.wait_min, "wait_max": load.wait_max, "shape": load.shape}
    if load.shape == "ramp":
        return labtools.locust_env(**knobs, step_users=load.step_users, step_duration_s=load.step_duration,
                                   step_spawn_rate=load.spawn_rate, max_users=load.users, hold_duration_s=load.hold)
    return labtools.locust_env(users=load.users, spawn_rate=load.spawn_rate, run_time=f"{math.ceil(load.duration)}s",
                               **knobs)
