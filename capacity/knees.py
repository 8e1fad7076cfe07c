"""The knees of a redline run, per configuration over its repeats, and the prediction made from them.

A configuration's knee is the median over its repeats (users and delivered req/s), with the spread (min-max).
It is a real knee only when every repeat ended on a FAIL step; otherwise it is a lower bound (the generator
or the host ran out first, or max users held) and it is shown, never fitted.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import median

from capacity.cells import Cell
from capacity.fit import Point, best_fit, predict
from capacity.grid import memory_bytes, parse_grid
from capacity.redline import ended_on_fail
from capacity.redline_run import KNEE_JSON, analyse, ramp_grid
from capacity.runs import read_run
from capacity.search import memory_limit
from capacity.startup import STARTUP_JSON

MIB = 1024**2


def knee_records(run_dir: Path) -> list[dict]:
    """Every ramp of the run, judged again from its files (so the report follows the current rules)."""
    grid = parse_grid(read_run(run_dir)["grid"])
    records = []
    for path in sorted(run_dir.glob(f"*/{KNEE_JSON}")):
        old = json.loads(path.read_text())
        c = old["cell"]
        cell = Cell(c["index"], c["cpus"], c["memory"], c["replicas"], c["processes"])
        analyse(path.parent, cell, ramp_grid(grid, old["step_users"]))
        records.append(json.loads(path.read_text()) | {"folder": path.parent.name})
    return records


def _med(values: list) -> float | None:
    present = [v for v in values if v is not None]
    return round(median(present), 1) if present else None


def _startup(run_dir: Path, slug: str) -> dict:
    path = run_dir / "startup" / slug / STARTUP_JSON
    return json.loads(path.read_text()) if path.exists() else {}


def _by_configuration(run_dir: Path) -> dict[str, list[dict]]:
    """The run's ramps (knee_records), grouped per configuration slug."""
    groups: dict[str, list[dict]] = {}
    for r in knee_records(run_dir):
        groups.setdefault(r["cell"]["slug"], []).append(r)
    return groups


def configurations(run_dir: Path) -> list[dict]:
    """One row per configuration: median knee over its repeats, spread, the knee step's numbers, start-up, cost."""
    rows = []
    for slug, reps in _by_configuration(run_dir).items():
        cell, steps = reps[0]["cell"], [r["step"] or {} for r in reps]
        kinds = {r["kind"] for r in reps}
        users = [r["users"] for r in reps]
        rows.append({
            "slug": slug, "label": cell["label"], "replicas": cell["replicas"], "cpus": cell["cpus"],
            "memory": cell["memory"], "total_cpus": cell["total_cpus"],
            "total_memory_mb": round(memory_bytes(cell["memory"]) * cell["replicas"] / MIB),
            "repeats": len(reps), "kind": "knee" if kinds == {"knee"} else ("none" if kinds == {"none"} else
                                                                           "lower bound"),
            "users": _med(users), "users_min": min(users), "users_max": max(users),
            "rps": _med([r["delivered_rps"] for r in reps]),
            **{k: _med([s.get(k) for s in steps]) for k in ("p50_ms", "p95_ms", "p99_ms", "response_ms",
                                                            "api_cpu_cores_mean", "generator_cpu_peak_pct",
                                                            "api_us_per_request", "lb_us_per_request")},
            "errors": sum(s.get("failures", 0) for s in steps),
            "api_mem_peak_mb": max((s.get("api_mem_peak_mb") or 0 for s in steps), default=None) or None,
            "throttled": _med([s.get("api_throttled_share") for s in steps]),
            "ended_by": [r["ended_by"] for r in reps], "early_stop": [r.get("early_stop") for r in reps],
            "startup": _startup(run_dir, slug)})
    return sorted(rows, key=lambda r: (r["replicas"], r["cpus"]))


def fit_points(configs: list[dict]) -> list[Point]:
    return [Point(c["replicas"], c["cpus"], c["rps"], c["response_ms"], c["label"])
            for c in configs if c["kind"] == "knee" and c["users"] and c["rps"]]


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
        failed_at = [next((s["users"] for s in r["steps"] if s["status"] == "fail"), None) for r in reps]
        if all(map(ended_on_fail, reps)) and all(f is not None and f <= users for f in failed_at):
            cell = reps[0]["cell"]
            bounds[cell["replicas"]] = max(bounds.get(cell["replicas"], 0.0), cell["cpus"])
    return bounds


def think_time(run: dict) -> float:
    load = run["grid"]["load"]
    return (load["wait_min"] + load["wait_max"]) / 2


def prediction(run_dir: Path, users: int, replicas: list[int], margin: float = 0.25) -> dict:
    """The cheapest deployment the knees' fit says holds `users`; raises ValueError with too few knees."""
    run, configs = read_run(run_dir), configurations(run_dir)
    points = fit_points(configs)
    fit_ = best_fit(points)
    p = predict(fit_, points, users, think_time(run), replicas)
    peaks = [c["api_mem_peak_mb"] for c in configs] + [c["startup"].get("peak_mem_mb") for c in configs]
    memory = memory_limit([x for x in peaks if x], margin) if any(peaks) else None
    data = {"users": users, "knees_run": str(run_dir), "knees": len(points), "fit": fit_.describe(),
            "fit_model": fit_.model, "fit_coef": list(fit_.coef), "loo_mean_pct": fit_.loo_mean_pct,
            "loo_max_pct": fit_.loo_max_pct, "loo": [list(x) for x in fit_.loo], "think_time_s": think_time(run)}
    if p is None:
        return data | {"status": "OUT OF RANGE", "answer": None}
    return data | {"status": "PREDICTED", "offered_rps": round(p.offered_rps, 1), "response_ms": p.response_ms,
                   "predicted_rps": round(p.predicted_rps, 1), "workers": p.workers,
                   "answer": {"replicas": p.replicas, "cpus": p.cpus, "memory": memory, "total_cpus": p.total_cpus}}


def confirm_command(data: dict, backend: str = "docker", out: str | None = None) -> str:
    a = data["answer"]
    return (f"python -m capacity find --users {data['users']} --replicas {a['replicas']} --cpus {a['cpus']:g} "
            f"--memory {a['memory']} --workers {data['workers']} --backend {backend}"
            + (f" --confirms {out}" if out else ""))
