"""The knee of one configuration: the last valid ramp step that kept the SLO.

A step is PASS (SLO held), FAIL (errors, p95 over the bound, the API killed or crashed) or INVALID (the
measurement describes the generator or the host, not the API: loadtest.validity through capacity.measure.validation).
A step whose only validity problem is a busy generator, with its load delivered, still PASSes when it met the
SLO: the latency it met includes the generator's own waiting, so the pass is conservative (noted on the step).
The ramp stops at the first step that is not PASS; the configuration holds the last PASS step before it.
An INVALID end is not a failure: the knee is then a lower bound ("holds at least ...").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from capacity.core.cells import Cell
from capacity.core.grid import Grid, Slo
from capacity.core.knee_record import AT_CEILING
from capacity.core.records import CellMetrics
from capacity.core.samples import RESOURCES_CSV, read_samples
from capacity.core.status import FAIL, INVALID, PASS, Status
from capacity.measure.cost import step_cost
from capacity.measure.slo import Judgement, judge, slo_misses
from capacity.measure.steps import (
    Row,
    Step,
    generator_name,
    history_file,
    read_generator,
    read_history,
    split_steps,
    step_resources,
)
from capacity.measure.throttle import read_throttle, throttled_share
from capacity.measure.validation import measurement_validity

CLEAR_FAIL_FACTOR = 3.0  # a rolling p95 this many times the bound ...
CLEAR_FAIL_ROWS = 5  # ... for this many seconds in a row, or errors over the SLO's budget, end a step early
CONSERVATIVE = "PASS under a busy generator (the latency includes its waiting): "


@dataclass(frozen=True)
class StepVerdict:
    step: Step
    status: Status
    reasons: list[str]
    resources: dict
    validity: dict

    def as_dict(self) -> dict:
        return {**asdict(self.step), "error_pct": self.step.error_pct, "status": self.status,
                "reasons": self.reasons, **self.resources, "validity": self.validity}


@dataclass(frozen=True)
class Knee:
    users: int  # the last PASS step (0: not even the first step held)
    delivered_rps: float | None
    step: dict | None  # the knee step's record
    ended_by: str  # why the ramp stopped
    kind: str  # "knee" (a FAIL step followed) | "lower bound" (INVALID or max users ended it) | "none"
    steps: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def step_users_for(total_cpus: float, default: int = 500, floor: int = 50) -> int:
    """+500 users per step from 0.5 CPU up, proportionally fewer below (0.1 CPU: +100), in multiples of 50."""
    floor = min(floor, default)
    scaled = int(round(default * min(total_cpus / 0.5, 1.0) / floor)) * floor
    return max(floor, min(default, scaled))


def judge_step(step: Step, resources: dict, slo: Slo, think_time_s: float, api_events: list[str],
               api_cpu_limit_cores: float | None = None) -> StepVerdict:
    """PASS, FAIL or INVALID for one step, every observed problem listed."""
    check = measurement_validity(step.users, think_time_s, step.response_ms, step.delivered_rps,
                                 resources.get("generator_cpu_peak_pct"), resources.get("generator_runqueue_pct"),
                                 api_cpu_cores=resources.get("api_cpu_cores_mean"),
                                 api_cpu_limit_cores=api_cpu_limit_cores,
                                 api_throttled_share=resources.get("api_throttled_share"),
                                 max_generator_cpu_pct=slo.generator_cpu_pct,
                                 generator=resources.get("generator", "Locust"))
    misses = slo_misses(step.failures, step.error_pct, step.p95_ms, slo)
    if step.requests == 0:
        misses.append("no requests completed")
    if check.api_behind:
        misses.append(f"behind: delivered {step.delivered_rps:,.0f} of {check.offered_rps:,.0f} req/s offered, "
                      f"{resources.get('generator', 'Locust')} not busy")
    conservative = not check.valid and check.generator_only and not misses
    if api_events:
        status = FAIL
    elif conservative:  # the load arrived and the latency, the generator's waiting included, met the SLO
        status = PASS
    elif not check.valid:
        status = INVALID
    else:
        status = FAIL if misses else PASS
    if conservative:
        check = replace(check, notes=[CONSERVATIVE + "; ".join(check.reasons), *check.notes])
    reasons = api_events + (check.reasons if not check.valid and not conservative else []) + misses
    return StepVerdict(step, status, reasons, resources, check.as_dict())


def knee_of(verdicts: list[StepVerdict], max_users: int) -> Knee:
    """The last PASS step before the first step that is not PASS."""
    held: StepVerdict | None = None
    ended_by, kind = f"{AT_CEILING}{max_users:,} held", "lower bound"
    if not verdicts:
        return Knee(0, None, None, "no step was measured", "lower bound")
    for v in verdicts:
        if v.status == PASS:
            held = v
            continue
        ended_by = f"{v.step.users:,} users {v.status.upper()}: " + "; ".join(v.reasons)
        kind = "knee" if v.status == FAIL else "lower bound"
        break
    else:
        if verdicts and not verdicts[-1].step.complete:
            ended_by = f"the run ended during the {verdicts[-1].step.users:,}-user step"
        elif verdicts and verdicts[-1].step.users < max_users:
            ended_by = f"the run ended after the {verdicts[-1].step.users:,}-user step"
    if held is None:
        return Knee(0, None, None, ended_by, "none" if kind == "knee" else kind, [v.as_dict() for v in verdicts])
    return Knee(held.step.users, held.step.delivered_rps, held.as_dict(), ended_by, kind,
                [v.as_dict() for v in verdicts])


def settle_for(step_duration_s: float) -> float:
    """Seconds left out at the start of a step: Locust's ~10 s percentile window, at most half the step."""
    return min(10.0, step_duration_s / 2)


def judge_ramp(cell_dir: Path, slo: Slo, think_time_s: float, step_users: int, step_duration_s: float,
               api_events: list[str], api_cpu_limit_cores: float | None = None,
               generator_error: str | None = None) -> list[StepVerdict]:
    """Every step of the ramp recorded in `cell_dir`, judged; API events (OOM, crash) count against the last,
    and a generator error (Locust could not finish) makes the last step INVALID unless the API broke too."""
    steps = split_steps(read_history(history_file(cell_dir)), step_users, step_duration_s,
                        settle_for(step_duration_s))
    samples, generator, throttle = read_samples(cell_dir / RESOURCES_CSV), read_generator(cell_dir), \
        read_throttle(cell_dir)
    name = generator_name(cell_dir)
    verdicts = [judge_step(s, step_resources(samples, generator, s.t_start, s.t_end)
                           | {"api_throttled_share": throttled_share(throttle, s.t_start, s.t_end), "generator": name}
                           | step_cost(throttle, s.t_start, s.t_end, s.requests), slo,
                           think_time_s, api_events if i == len(steps) - 1 else [], api_cpu_limit_cores)
                for i, s in enumerate(steps)]
    if generator_error and verdicts and not api_events:
        last = verdicts[-1]
        verdicts[-1] = replace(last, status=INVALID, reasons=[f"generator: {generator_error}", *last.reasons])
    return verdicts


def clearly_failed(rows: list[Row], slo: Slo, settle_s: float = 10.0) -> str | None:
    """Why the step now running has already failed, or None: no need to finish it."""
    if not rows:
        return None
    users = rows[-1].users
    current = [r for r in rows if r.users == users]
    before = [r for r in rows if r.t < current[0].t]
    start_failures = before[-1].failures if before else 0
    if rows[-1].failures - start_failures > slo.max_failures:  # the step has failed whatever comes next
        return f"{rows[-1].failures - start_failures} failure(s) at {users:,} users"
    settled = [r for r in current if r.t - current[0].t >= settle_s]
    tail = settled[-CLEAR_FAIL_ROWS:]
    bound = CLEAR_FAIL_FACTOR * slo.p95_ms
    if len(tail) == CLEAR_FAIL_ROWS and all(r.p95 is not None and r.p95 > bound for r in tail):
        return f"p95 over {bound:g} ms for {CLEAR_FAIL_ROWS} s at {users:,} users"
    return None


def api_events(m: CellMetrics) -> list[str]:
    """What the API did that fails a step whatever its numbers: OOM kills, restarts, errors."""
    events = list(m.events)
    if m.restarts:
        events.append(f"{m.restarts} restart(s)")
    if m.error:
        events.append(m.error)
    return events


def judge_at_users(cell_dir: Path, cell: Cell, metrics: CellMetrics, grid: Grid) -> Judgement:
    """find's verdict: the cell at its N users judged like a ramp step (validity included); the whole cell's
    (measure.slo.judge) if N was never reached."""
    load = grid.load
    verdicts = judge_ramp(cell_dir, grid.slo, load.think_time_s, load.users, load.duration, api_events(metrics),
                          cell.total_cpus, metrics.generator_error)
    if not verdicts:
        whole = judge(metrics, grid.slo, grid.load)
        return Judgement(whole.status if whole.status == INVALID else FAIL, whole.reasons or ["users never reached"])
    v = verdicts[0]
    return Judgement(v.status, v.reasons, v.as_dict())
