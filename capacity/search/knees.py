"""The knees of a redline run, per configuration over its repeats, and the prediction made from them.

A configuration's knee is the median over its repeats (users and delivered req/s), with the spread (min-max).
It is a real knee only when every repeat ended on a FAIL step; otherwise it is a lower bound (the generator
or the host ran out first, or max users held) and it is shown, never fitted.

A prediction asks two models, the empirical fit of the knees (search.fit) and the queueing model of each
replica's CPU per request (search.queueing), and takes the answer of the one with the smaller held-out error.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from statistics import median

from capacity.backends.startup import STARTUP_JSON
from capacity.campaign.run import read_run
from capacity.core.cells import Cell
from capacity.core.find_result import FindResult
from capacity.core.grid import DEFAULT_CPU_PERIOD_MS, Grid, memory_bytes, parse_grid
from capacity.core.knee_record import KNEE_JSON, ConfigurationKnee, KneeRecord
from capacity.core.records import CellInfo, CellRecord
from capacity.measure.ramp import api_events, judge_ramp, knee_of
from capacity.search import queueing
from capacity.search.bisect import memory_limit
from capacity.search.fit import REQS_PER_WORKER, Point, best_fit, knee_response_ms, offered_rps, predict

STOPPED = "early_stop.txt"
MIB = 1024**2


def ramp_grid(grid: Grid, step_users: int) -> Grid:
    """The grid's load as a ramp of `step_users` steps up to load.users (rounded up to a whole step), no hold."""
    top = -(-grid.load.users // step_users) * step_users
    load = grid.load.model_copy(update={"shape": "ramp", "step_users": step_users, "users": top, "hold": 0.0})
    return grid.model_copy(update={"load": load})


def judge_knee(cell_dir: Path, cell: Cell, grid: Grid) -> KneeRecord:
    """The ramp recorded in `cell_dir` judged by the current rules: knee.json's content. Writes nothing (the
    redline command writes knee.json; a report judges again and only reads)."""
    record = CellRecord.read(cell_dir)
    load = grid.load
    verdicts = judge_ramp(cell_dir, grid.slo, load.think_time_s, load.step_users, load.step_duration,
                          api_events(record.metrics), cell.total_cpus, record.metrics.generator_error)
    knee = knee_of(verdicts, load.users)
    error = record.metrics.error or record.metrics.generator_error
    if not verdicts and error:
        knee = replace(knee, ended_by=f"no step was measured: {error}")
    stopped = cell_dir / STOPPED
    return KneeRecord(**knee.as_dict(), cell=CellInfo.of(cell), step_users=load.step_users,
                      early_stop=stopped.read_text().strip() if stopped.exists() else None)


def knee_records(run_dir: Path) -> list[KneeRecord]:
    """Every ramp of the run, judged again from its files (so the report follows the current rules)."""
    grid = parse_grid(read_run(run_dir)["grid"])
    records = []
    for path in sorted(run_dir.glob(f"*/{KNEE_JSON}")):
        old = KneeRecord.read(path.parent)
        records.append(judge_knee(path.parent, old.cell.to_cell(), ramp_grid(grid, old.step_users)))
    return records


def _med(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), 1) if present else None


def _startup(run_dir: Path, slug: str) -> dict:
    path = run_dir / "startup" / slug / STARTUP_JSON
    return json.loads(path.read_text()) if path.exists() else {}


def _by_configuration(run_dir: Path) -> dict[str, list[KneeRecord]]:
    """The run's ramps (knee_records), grouped per configuration slug."""
    groups: dict[str, list[KneeRecord]] = {}
    for r in knee_records(run_dir):
        groups.setdefault(r.cell.slug, []).append(r)
    return groups


def configurations(run_dir: Path, groups: dict[str, list[KneeRecord]] | None = None) -> list[ConfigurationKnee]:
    """One row per configuration: median knee over its repeats, spread, the knee step's numbers, start-up, cost.
    `groups`: the run's ramps per configuration when the caller has them (else judged again here)."""
    rows = []
    for slug, reps in (groups or _by_configuration(run_dir)).items():
        cell, steps = reps[0].cell, [r.step or {} for r in reps]
        kinds = {r.kind for r in reps}
        users = [r.users for r in reps]
        rows.append(ConfigurationKnee(
            slug=slug, label=cell.label, replicas=cell.replicas, cpus=cell.cpus, memory=cell.memory,
            total_cpus=cell.total_cpus, total_memory_mb=round(memory_bytes(cell.memory) * cell.replicas / MIB),
            repeats=len(reps), kind="knee" if kinds == {"knee"} else ("none" if kinds == {"none"} else "lower bound"),
            users=_med(users), users_min=min(users), users_max=max(users),
            rps=_med([r.delivered_rps for r in reps]),
            **{k: _med([s.get(k) for s in steps]) for k in ("p50_ms", "p95_ms", "p99_ms", "response_ms",
                                                            "api_cpu_cores_mean", "generator_cpu_peak_pct")},
            errors=sum(s.get("failures", 0) for s in steps),
            api_mem_peak_mb=max((s.get("api_mem_peak_mb") or 0 for s in steps), default=None) or None,
            throttled=_med([s.get("api_throttled_share") for s in steps]),
            ended_by=[r.ended_by for r in reps], early_stop=[r.early_stop for r in reps],
            startup=_startup(run_dir, slug),
            **{k: _med([s.get(k) for s in steps]) for k in ("api_us_per_request", "lb_us_per_request")}))
    return sorted(rows, key=lambda r: (r.replicas, r.cpus))


def fit_points(configs: list[ConfigurationKnee]) -> list[Point]:
    return [Point(c.replicas, c.cpus, c.rps, c.response_ms, c.label)
            for c in configs if c.kind == "knee" and c.users and c.rps]


def ruled_out(run_dir: Path, users: int, slo: dict, load: dict) -> dict[int, float]:
    """Per replica count, the largest CPU per replica whose every ramp failed at `users` or fewer: `find` never
    measures it or anything under it. Only a run with the same SLO and think time can rule anything out."""
    knees = read_run(run_dir)["grid"]
    think = (knees["load"]["wait_min"], knees["load"]["wait_max"])
    if (knees["slo"], think) != (slo, (load["wait_min"], load["wait_max"])):
        raise ValueError(f"{run_dir}: its ramps used another SLO or think time than this search; they rule "
                         "nothing out")
    bounds: dict[int, float] = {}
    for reps in _by_configuration(run_dir).values():
        failed_at = [next((s["users"] for s in r.steps if s["status"] == "fail"), None) for r in reps]
        if all(r.ended_on_fail for r in reps) and all(f is not None and f <= users for f in failed_at):
            cell = reps[0].cell
            bounds[cell.replicas] = max(bounds.get(cell.replicas, 0.0), cell.cpus)
    return bounds


def think_time(run: dict) -> float:
    return parse_grid(run["grid"]).load.think_time_s


def queueing_loop(run: dict) -> queueing.Loop:
    grid = parse_grid(run["grid"])
    return queueing.Loop(grid.load.think_time_s, grid.slo.p95_ms)


def knees_and_model(run_dir: Path, groups: dict[str, list[KneeRecord]] | None = None,
                    ) -> tuple[list[ConfigurationKnee], queueing.QueueingModel | None]:
    """The configurations' knees and the queueing model of their steps (None when no step measured CPU).
    `groups`: the run's ramps per configuration when the caller has them (else judged again here)."""
    groups = groups or _by_configuration(run_dir)
    rows = configurations(run_dir, groups)
    try:
        return rows, queueing.model(groups, rows, queueing_loop(read_run(run_dir)))
    except ValueError:
        return rows, None


def _answer(replicas: int, cpus: float, memory: str | None) -> dict:
    return {"replicas": replicas, "cpus": cpus, "memory": memory, "total_cpus": round(cpus * replicas, 6)}


def _queueing_fields(model: queueing.QueueingModel, answer: queueing.QueueingPrediction | None) -> dict:
    return {"queueing": model.describe(), "queueing_cost": [model.cost.a_us, model.cost.w_us],
            "queueing_loo_mean_pct": model.loo_mean_pct, "queueing_loo_max_pct": model.loo_max_pct,
            "queueing_loo": [[h.label, h.measured_rps, h.predicted_rps, h.measured_users, h.predicted_users,
                              h.step_users] for h in model.held_out if h.error_pct is not None],
            "queueing_knee_users": answer.knee_users if answer else None}


def prediction(run_dir: Path, users: int, replicas: list[int], margin: float = 0.25,
               cpu_period_ms: int = DEFAULT_CPU_PERIOD_MS, groups: dict[str, list[KneeRecord]] | None = None) -> dict:
    """The cheapest deployment that holds `users` by whichever of the knees' fit and the queueing model has the
    smaller held-out error (the fit alone when the steps give no cost, the queueing model when only it could be
    scored); raises ValueError with too few knees.
    `groups` as for knees_and_model."""
    run, (configs, model) = read_run(run_dir), knees_and_model(run_dir, groups)
    points = fit_points(configs)
    fit_ = best_fit(points)
    p = predict(fit_, points, users, think_time(run), replicas)
    q = queueing.predict(model, users, replicas, cpu_period_ms) if model else None
    use_model = model is not None and model.loo_mean_pct is not None and (
        fit_.loo_mean_pct is None or model.loo_mean_pct < fit_.loo_mean_pct)
    peaks = [c.api_mem_peak_mb for c in configs] + [c.startup.get("peak_mem_mb") for c in configs]
    memory = memory_limit([x for x in peaks if x], margin) if any(peaks) else None
    data = {"users": users, "knees_run": str(run_dir), "knees": len(points), "fit": fit_.describe(),
            "fit_model": fit_.model, "fit_coef": list(fit_.coef), "loo_mean_pct": fit_.loo_mean_pct,
            "loo_max_pct": fit_.loo_max_pct, "loo": [list(x) for x in fit_.loo], "think_time_s": think_time(run)}
    if model is not None:
        data |= {"model": "queueing" if use_model else "fit", **_queueing_fields(model, q),
                 "answers": {"fit": p and _answer(p.replicas, p.cpus, memory),
                             "queueing": q and _answer(q.replicas, q.cpus, memory)}}
    chosen = q if use_model else p
    if chosen is None:
        return data | {"status": "OUT OF RANGE", "answer": None}
    response = knee_response_ms(points)
    offered = offered_rps(users, think_time(run), response)
    return data | {"status": "PREDICTED", "offered_rps": round(offered, 1), "response_ms": response,
                   "predicted_rps": round(q.rps if use_model else p.predicted_rps, 1),
                   "workers": math.ceil(offered / REQS_PER_WORKER),
                   "answer": _answer(chosen.replicas, chosen.cpus, memory)}


def confirm_command(data: FindResult, backend: str = "docker", out: str | None = None) -> str:
    a = data.answer
    return (f"python -m capacity find --users {data.users} --replicas {a.replicas} --cpus {a.cpus:g} "
            f"--memory {a.memory} --workers {data.workers} --backend {backend}"
            + (f" --confirms {out}" if out else ""))
