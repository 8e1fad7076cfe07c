"""Locust and wrk side by side: the same cells at the same user counts, one sweep per (users, generator).

For each user count, Locust's sweep then wrk's (interleaved, so both see the same machine), into
<out>/<users>-<generator>/ (ordinary sweep folders); repeat k > 1 goes to <users>-<generator>-r<k>/ and swaps
the order (wrk first on even repeats), so a drift of the machine does not favour one generator. Pairs of cells
are then compared on the median over their valid repeats of delivered req/s, the API's CPU per request (its
cgroup, measure/cost.py) and p50/p95, within the tolerances below (issue 22). Medians because one run is noisy:
at 500-1,000 users (6-15% of a core) the same generator's API CPU per request moved 2-17% between two runs
(results/20261206-equivalence and -r2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from capacity.campaign.cell import Backend, Report, no_report
from capacity.core.grid import Grid
from capacity.core.records import CellRecord
from capacity.core.status import INVALID
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
    """One cell at one user count, measured by both generators, once or more each."""

    users: int
    label: str
    locust: tuple[CellRecord, ...]
    wrk: tuple[CellRecord, ...]

    @staticmethod
    def _counted(records: tuple[CellRecord, ...]) -> tuple[CellRecord, ...]:
        """The valid runs (an INVALID one measured its generator, not the API); all when none is valid."""
        return tuple(r for r in records if r.status != INVALID) or records

    def values(self, field: str) -> tuple[list[float], list[float]]:
        """The counted runs' values of one figure, per generator."""
        return tuple([v for r in self._counted(side) if (v := getattr(r.metrics, field)) is not None]
                     for side in (self.locust, self.wrk))

    def both(self, field: str) -> tuple[float | None, float | None]:
        """Median per generator over its counted runs."""
        a, b = self.values(field)
        return (median(a) if a else None), (median(b) if b else None)

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

    @property
    def statuses(self) -> tuple[list[str], list[str]]:
        return [str(r.status) for r in self.locust], [str(r.status) for r in self.wrk]


def with_load(grid: Grid, users: int, generator: str) -> Grid:
    load = grid.load.model_copy(update={"users": users, "generator": generator})
    return grid.model_copy(update={"load": load})


def sweep_dir(out: Path, users: int, generator: str, repeat: int = 1) -> Path:
    return out / (f"{users}-{generator}" if repeat == 1 else f"{users}-{generator}-r{repeat}")


def _repeats(out: Path, users: int, generator: str) -> list[Path]:
    found, k = [], 1
    while (folder := sweep_dir(out, users, generator, k)).is_dir():
        found.append(folder)
        k += 1
    return found


def pairs(out: Path, users_list: list[int]) -> list[Pair]:
    """Every cell that both generators measured, per user count, in the order of the user counts."""
    found = []
    for users in users_list:
        runs = {g: _repeats(out, users, g) for g in GENERATORS}
        cells = sorted({c.parent.name for folder in runs["locust"] for c in folder.glob("*/cell.json")})
        for name in cells:
            sides = [tuple(CellRecord.read(f / name) for f in runs[g] if (f / name / "cell.json").exists())
                     for g in GENERATORS]
            if all(sides):
                found.append(Pair(users, sides[0][0].cell.label, *sides))
    return found


def run(grid: Grid, users_list: list[int], out: Path, backend: Callable[[], Backend], repeats: int = 1,
        sweep_report: Report = no_report, report: Report = no_report) -> list[Pair]:
    """Both generators' sweeps per user count and repeat (resumed where an earlier run stopped), the order
    swapped on even repeats; `report(out)` after each."""
    for repeat in range(1, repeats + 1):
        order = GENERATORS if repeat % 2 else GENERATORS[::-1]
        for users in users_list:
            for generator in order:
                sweep(with_load(grid, users, generator), backend(), sweep_dir(out, users, generator, repeat),
                      progress=False, report=sweep_report)
                report(out)
    return pairs(out, users_list)
