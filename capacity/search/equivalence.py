"""Locust and wrk side by side: the same cells at the same user counts, one sweep per (users, generator).

For each user count, Locust's sweep then wrk's (interleaved, so both see the same machine), into
<out>/<users>-<generator>/ (ordinary sweep folders). Pairs of cells are then compared on delivered req/s, the
API's CPU per request (its cgroup, measure/cost.py) and p50/p95 within the tolerances below (issue 22).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from capacity.campaign.cell import Backend, Report, no_report
from capacity.core.grid import Grid
from capacity.core.records import CellRecord
from capacity.search.sweep import sweep

GENERATORS = ("locust", "wrk")
RPS_TOLERANCE = 0.05  # delivered req/s within 5%
COST_TOLERANCE = 0.10  # the API's CPU per request within 10%
LATENCY_TOLERANCE, LATENCY_SLACK_MS = 0.20, 10.0  # p50 / p95 within 20% or 10 ms
FIGURES = (("rps_mean", "rps"), ("api_us_per_request", "cost"), ("p50_ms", "latency"), ("p95_ms", "latency"))


def agree(locust: float, wrk: float, kind: str) -> bool:
    """Whether two measurements of one figure agree (relative to Locust's, the reference)."""
    diff = abs(wrk - locust)
    if kind == "latency":
        return diff <= LATENCY_SLACK_MS or diff <= LATENCY_TOLERANCE * locust
    tolerance = RPS_TOLERANCE if kind == "rps" else COST_TOLERANCE
    return locust > 0 and diff <= tolerance * locust


@dataclass(frozen=True)
class Pair:
    """One cell at one user count, measured by both generators."""

    users: int
    label: str
    locust: CellRecord
    wrk: CellRecord

    def both(self, field: str) -> tuple[float | None, float | None]:
        return getattr(self.locust.metrics, field), getattr(self.wrk.metrics, field)

    def checks(self) -> dict[str, bool | None]:
        """Per figure: True within tolerance, False outside, None when one side did not measure it."""
        out = {}
        for field, kind in FIGURES:
            a, b = self.both(field)
            out[field] = None if a is None or b is None else agree(a, b, kind)
        return out

    @property
    def agrees(self) -> bool:
        return all(v is True for v in self.checks().values())


def with_load(grid: Grid, users: int, generator: str) -> Grid:
    load = grid.load.model_copy(update={"users": users, "generator": generator})
    return grid.model_copy(update={"load": load})


def sweep_dir(out: Path, users: int, generator: str) -> Path:
    return out / f"{users}-{generator}"


def pairs(out: Path, users_list: list[int]) -> list[Pair]:
    """Every cell that both generators measured, per user count, in the order of the user counts."""
    found = []
    for users in users_list:
        locust_dir, wrk_dir = (sweep_dir(out, users, g) for g in GENERATORS)
        for cell_json in sorted(locust_dir.glob("*/cell.json")):
            other = wrk_dir / cell_json.parent.name
            if (other / "cell.json").exists():
                a, b = CellRecord.read(cell_json.parent), CellRecord.read(other)
                found.append(Pair(users, a.cell.label, a, b))
    return found


def run(grid: Grid, users_list: list[int], out: Path, backend: Callable[[], Backend],
        sweep_report: Report = no_report, report: Report = no_report) -> list[Pair]:
    """Both generators' sweeps per user count (resumed where an earlier run stopped); `report(out)` after each."""
    for users in users_list:
        for generator in GENERATORS:
            sweep(with_load(grid, users, generator), backend(), sweep_dir(out, users, generator), progress=False,
                  report=sweep_report)
            report(out)
    return pairs(out, users_list)
