"""Locust and wrk side by side: the same cells at the same user counts, one sweep per (users, generator).

    python -m capacity.equivalence capacity/grids/equivalence.toml --users 500,1000,2000 [--out results/<ts>]

For each user count, Locust's sweep then wrk's (interleaved, so both see the same machine), into
<out>/<users>-<generator>/ (ordinary sweep folders: `python -m capacity report` works on each). Then
<out>/summary.md: per cell and user count, delivered req/s, the API's CPU per request (its cgroup, capacity.cost)
and p50/p95 from each generator, and whether they agree within the tolerances below (issue 22). Resumable:
an existing --out keeps the sweeps it finished.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from capacity.backends import make_backend
from capacity.grid import Grid, GridError, check_machine, load_grid
from capacity.records import CellRecord
from capacity.settings import Settings

GENERATORS = ("locust", "wrk")
RPS_TOLERANCE = 0.05  # delivered req/s within 5%
COST_TOLERANCE = 0.10  # the API's CPU per request within 10%
LATENCY_TOLERANCE, LATENCY_SLACK_MS = 0.20, 10.0  # p50 / p95 within 20% or 10 ms
SUMMARY = "summary.md"


@dataclass(frozen=True)
class Pair:
    """One cell at one user count, measured by both generators."""

    users: int
    label: str
    locust: CellRecord
    wrk: CellRecord

    def _both(self, field: str) -> tuple[float | None, float | None]:
        return getattr(self.locust.metrics, field), getattr(self.wrk.metrics, field)

    def checks(self) -> dict[str, bool | None]:
        """Per figure: True within tolerance, False outside, None when one side did not measure it."""
        out = {}
        for field, kind in (("rps_mean", "rps"), ("api_us_per_request", "cost"), ("p50_ms", "latency"),
                            ("p95_ms", "latency")):
            a, b = self._both(field)
            out[field] = None if a is None or b is None else agree(a, b, kind)
        return out

    @property
    def agrees(self) -> bool:
        return all(v is True for v in self.checks().values())


def agree(locust: float, wrk: float, kind: str) -> bool:
    """Whether two measurements of one figure agree (relative to Locust's, the reference)."""
    diff = abs(wrk - locust)
    if kind == "latency":
        return diff <= LATENCY_SLACK_MS or diff <= LATENCY_TOLERANCE * locust
    tolerance = RPS_TOLERANCE if kind == "rps" else COST_TOLERANCE
    return locust > 0 and diff <= tolerance * locust


def with_load(grid: Grid, users: int, generator: str) -> Grid:
    load = grid.load.model_copy(update={"users": users, "generator": generator})
    return grid.model_copy(update={"load": load})


def sweep_dir(out: Path, users: int, generator: str) -> Path:
    return out / f"{users}-{generator}"


def pairs(out: Path, users_list: list[int]) -> list[Pair]:
    found = []
    for users in users_list:
        locust_dir, wrk_dir = (sweep_dir(out, users, g) for g in GENERATORS)
        for cell_json in sorted(locust_dir.glob("*/cell.json")):
            other = wrk_dir / cell_json.parent.name
            if (other / "cell.json").exists():
                a, b = CellRecord.read(cell_json.parent), CellRecord.read(other)
                found.append(Pair(users, a.cell.label, a, b))
    return found


def _fmt(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _cell(pair: Pair, field: str, digits: int, ok: bool | None) -> str:
    a, b = pair._both(field)
    mark = "" if ok is None else (" ✓" if ok else " ✗")
    return f"{_fmt(a, digits)} / {_fmt(b, digits)}{mark}"


def write_summary(out: Path, users_list: list[int]) -> list[Pair]:
    found = pairs(out, users_list)
    agreeing = sum(p.agrees for p in found)
    lines = [f"**{agreeing} of {len(found)} cell(s) agree** (Locust / wrk; ✓ within tolerance: req/s 5%, API CPU "
             "per request 10%, p50 and p95 20% or 10 ms)", "",
             "| cell | users | delivered req/s | API us/request | p50 ms | p95 ms | generator CPU % | verdicts |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for p in found:
        checks = p.checks()
        lines.append(f"| {p.label} | {p.users:,} | {_cell(p, 'rps_mean', 0, checks['rps_mean'])} | "
                     f"{_cell(p, 'api_us_per_request', 0, checks['api_us_per_request'])} | "
                     f"{_cell(p, 'p50_ms', 0, checks['p50_ms'])} | {_cell(p, 'p95_ms', 0, checks['p95_ms'])} | "
                     f"{_cell(p, 'generator_cpu_peak_pct', 0, None)} | {p.locust.status} / {p.wrk.status} |")
    lines += ["", "Each row: one cell measured by Locust, then by wrk (its own sweep folder under "
              "`<users>-<generator>/`). The API's CPU per request is its cgroup's usage over the load divided by "
              "the requests the replicas counted (capacity.cost). Generator CPU: Locust's peak per process, wrk's "
              "peak per container (one core = 100)."]
    (out / SUMMARY).write_text("\n".join(lines) + "\n")
    (out / "equivalence.json").write_text(json.dumps(
        [{"users": p.users, "cell": p.label, "agrees": p.agrees, "checks": p.checks(),
          **{g: {f: getattr(r.metrics, f) for f in ("rps_mean", "api_us_per_request", "lb_us_per_request",
                                                     "p50_ms", "p95_ms", "p99_ms", "generator_cpu_peak_pct")}
             | {"status": r.status} for g, r in (("locust", p.locust), ("wrk", p.wrk))}} for p in found],
        indent=2) + "\n")
    return found


def run(grid: Grid, users_list: list[int], out: Path, backend: str, settings: Settings) -> list[Pair]:
    from capacity.runner import sweep

    for users in users_list:
        for generator in GENERATORS:
            sweep(with_load(grid, users, generator), make_backend(backend, settings), sweep_dir(out, users, generator),
                  progress=False)
            write_summary(out, users_list)
    return write_summary(out, users_list)


def _users(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected user counts like 500,1000,2000, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive user counts, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m capacity.equivalence", description=__doc__.splitlines()[0])
    parser.add_argument("grid", type=Path, help="the cells (grid) and the load (users overridden by --users)")
    parser.add_argument("--users", type=_users, default=[500, 1000, 2000])
    parser.add_argument("--backend", choices=("docker", "native"), default="docker")
    parser.add_argument("--out", type=Path, help="run folder; an existing one is resumed")
    parser.add_argument("--report", action="store_true", help="only rebuild summary.md from --out")
    args = parser.parse_args(argv)
    settings = Settings()
    out = args.out or settings.results_dir / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-equivalence"
    try:
        if args.report:
            found = write_summary(out, args.users)
        else:
            grid = load_grid(args.grid)
            check_machine(grid, os.cpu_count() or 1)
            found = run(grid, args.users, out, args.backend, settings)
    except GridError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{out}/{SUMMARY}")
    print((out / SUMMARY).read_text().splitlines()[0])
    return 0 if found and all(p.agrees for p in found) else 1


if __name__ == "__main__":
    raise SystemExit(main())
