"""Pass, fail or invalid, with the reasons.

- fail: the API broke the SLO (OOM kill, restarts, failed requests, p95 over the bound, users not reached,
  never became ready).
- invalid: the load generator was saturated, so the numbers describe Locust, not the API. Nothing is
  concluded from such a cell, unless the API itself was killed (OOM, restarts), which is a fail anyway.
- pass: none of the above.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from capacity.core.cells import Cell
from capacity.core.grid import Grid, Load, Slo
from capacity.core.records import CellMetrics
from capacity.core.status import FAIL, INVALID, PASS, Status


@dataclass(frozen=True)
class Judgement:
    status: Status
    reasons: list[str] = field(default_factory=list)
    step: dict | None = None  # a cell judged as a ramp step (find): that step's record

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "SLO held"


def _api_broke(m: CellMetrics) -> list[str]:
    reasons = []
    if m.oom_killed:
        reasons.append(f"OOM: {m.oom_killed} replica(s) killed by the memory limit")
    if m.restarts:
        reasons.append(f"{m.restarts} restart(s) during the run")
    if m.error:
        reasons.append(m.error)
    return reasons


def slo_misses(failures: int, error_pct: float, p95_ms: float | None, slo: Slo,
               p95_expected: bool = False) -> list[str]:
    """The SLO's error budget and latency bound, for a cell or a ramp step alike; `p95_expected`: requests
    completed, so a missing p95 is itself a miss."""
    reasons = []
    if failures > slo.max_failures:
        reasons.append(f"errors: {failures} failed request(s) ({error_pct:g}%)")
    if p95_ms is None and p95_expected:
        reasons.append("latency: no p95 recorded")
    elif p95_ms is not None and p95_ms > slo.p95_ms:
        reasons.append(f"latency: p95 {p95_ms:g} ms > {slo.p95_ms:g} ms")
    return reasons


def _slo_misses(m: CellMetrics, slo: Slo, load: Load) -> list[str]:
    reasons = slo_misses(m.failures, m.error_pct or 0, m.p95_ms, slo, p95_expected=bool(m.requests))
    wanted = slo.users_ratio * load.users
    if m.users_reached < wanted:
        reasons.append(f"users: reached {m.users_reached} of {wanted:g}")
    if not m.requests:
        reasons.append("no requests completed")
    return reasons


def _generator_saturated(m: CellMetrics, slo: Slo) -> list[str]:
    reasons = [f"generator: {m.generator_error}"] if m.generator_error else []
    if not m.generator_valid:
        reasons.append(f"generator saturated: {m.generator_reason or 'Locust CPU warning'}")
    peak = m.generator_cpu_peak_pct  # per event loop (measure/metrics.cell_metrics)
    if peak is not None and peak > slo.generator_cpu_pct and m.generator_valid:
        reasons.append(f"generator saturated: a generator process at {peak:g}% CPU > {slo.generator_cpu_pct:g}%")
    return reasons


def judge(metrics: CellMetrics, slo: Slo, load: Load) -> Judgement:
    """The cell's status; every observed problem is listed, the status follows the precedence above."""
    broke, saturated, misses = _api_broke(metrics), _generator_saturated(metrics, slo), _slo_misses(metrics, slo, load)
    if broke:  # a cell that never served a request needs no list of what it therefore also missed
        return Judgement(FAIL, broke + saturated + (misses if metrics.requests else []))
    if saturated:
        return Judgement(INVALID, saturated + misses)
    if misses:
        return Judgement(FAIL, misses)
    return Judgement(PASS)


CellJudge = Callable[[Path, Cell, CellMetrics, Grid], Judgement]  # how campaign.run_cell judges a measured cell


def judge_cell(cell_dir: Path, cell: Cell, metrics: CellMetrics, grid: Grid) -> Judgement:
    """A sweep's (and a ramp's cell.json) verdict: the whole cell against the SLO."""
    return judge(metrics, grid.slo, grid.load)
