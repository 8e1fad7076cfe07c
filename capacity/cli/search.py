"""The `redline` and `find` commands of `python -m capacity` (argparse), and `report` for their run folders.

    python -m capacity redline capacity/grids/redline.toml [--repeats 3] [--step 500] [--backend docker|native]
    python -m capacity find --users 2000 [--grid capacity/grids/find.toml] [--replicas 1,2] [--cpus 0.05,0.1,...]
                            [--knees results/<redline run>]
    python -m capacity find --users 10000 --predict --knees results/<redline run>
    python -m capacity find --users 10000 --replicas 2 --cpus 0.5 --memory 192M --workers 6 --confirms <prediction>
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

from capacity.backends import add_backend_arguments, backend_settings, make_backend
from capacity.core.endpoints import check_endpoint
from capacity.core.find_result import FindResult
from capacity.core.grid import (
    Grid,
    GridError,
    check_machine,
    check_period_backend,
    load_grid,
    parse_grid,
    with_generator,
    with_worker_endpoints,
)
from capacity.core.run_info import RUN_JSON, FindParams, RedlineParams, RunInfo
from capacity.core.settings import Settings
from capacity.generators.remote_workers import check_master_address
from capacity.report.search import write_find_report, write_redline_report

FIND_GRID = Path("capacity/grids/find.toml")


def _floats(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return values


def _ints(text: str) -> list[int]:
    values = _floats(text)
    if any(v != int(v) for v in values):
        raise argparse.ArgumentTypeError(f"expected whole numbers, got {text!r}")
    return [int(v) for v in values]


def endpoint(text: str) -> str:
    try:
        return check_endpoint(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_worker_endpoint(p: argparse.ArgumentParser) -> None:
    p.add_argument("--generator", choices=("locust", "wrk"),
                   help="the load generator (default: the grid's load.generator, locust); wrk emulates the same "
                        "users at ~1/3 of Locust's CPU per request (wrk/README.md)")
    p.add_argument("--worker-endpoint", type=endpoint, action="append", metavar="URL",
                   help="docker backend: more Locust workers on this Docker host (unix:///..., ssh://user@host, "
                        "tcp://host:port), started there for every cell; repeat for more hosts; replaces the "
                        "grid's [generators] endpoints. Needs HOST_BIND = an address those hosts reach")


def _common(p: argparse.ArgumentParser) -> None:
    add_backend_arguments(p)
    p.add_argument("--out", type=Path, help="run folder; an existing one is resumed")
    p.add_argument("--tracking-uri", help="native backend: the MLflow registry the API processes load from")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")
    p.add_argument("--lock", type=Path, help="docker: flock this file per measurement (a shared engine, e.g. "
                                             "/tmp/lab-docker.lock); the stack is left as each turn found it")
    add_worker_endpoint(p)


def add_commands(sub) -> None:
    red = sub.add_parser("redline", help="ramp every configuration of a grid to its knee (last valid step in SLO)")
    red.add_argument("grid", type=Path, help="grid file (TOML): configurations, load (users = max), SLO")
    red.add_argument("--repeats", type=int, default=1, help="ramps per configuration (3 for a spread)")
    red.add_argument("--step", type=int, help="users per step (default: +load.step_users from 0.5 CPU up, "
                                              "proportionally fewer below, at least 50)")
    red.add_argument("--target-users", type=int, default=10_000, help="N of the headroom chart (N / knee)")
    _common(red)
    find = sub.add_parser("find", help="the cheapest deployment that holds N users: search, or predict from knees")
    find.add_argument("--users", type=int, required=True)
    find.add_argument("--grid", type=Path, default=FIND_GRID, help="load, SLO and lb (and default ladders)")
    find.add_argument("--replicas", type=_ints, help="replica counts to search, e.g. 1,2 (default: the grid's)")
    find.add_argument("--cpus", type=_floats, help="the CPU-per-replica ladder, e.g. 0.05,0.1,0.25 (default: grid's)")
    find.add_argument("--cpu-period", type=int, metavar="MS", help="the replicas' CFS period in ms (default: the "
                      "grid's cpu_period_ms, else Docker's 100); docker backend only")
    find.add_argument("--memory", help="a fixed memory limit per replica (default: sized from a probe cell)")
    find.add_argument("--margin", type=float, default=0.25, help="memory margin over the peak RSS (0.25 = +25%%)")
    find.add_argument("--repeats", type=int, default=3, help="measurements of each boundary cell")
    find.add_argument("--duration", type=float, help="seconds of load per cell (default: the grid's)")
    find.add_argument("--workers", type=int, help="Locust workers (docker backend; default: the grid's)")
    find.add_argument("--predict", action="store_true", help="measure nothing: predict from --knees")
    find.add_argument("--knees", type=Path, help="a redline run folder: --predict fits its knees; a search never "
                                                 "measures the configurations whose every ramp failed at <= N users")
    find.add_argument("--confirms", type=Path, help="the prediction folder this run checks (marks it CONFIRMED)")
    _common(find)


def _settings(args: argparse.Namespace, grid: Grid) -> Settings:
    if args.backend == "swarm":  # their start-up timing recreates compose services: not a Swarm stack's
        raise GridError(f"{args.command} does not run on --backend swarm yet; `python -m capacity sweep GRID "
                        "--backend swarm` does")
    settings = backend_settings(args, Settings())
    if args.tracking_uri:
        settings = settings.model_copy(update={"mlflow_tracking_uri": args.tracking_uri})
    if grid.generators.endpoints:  # before the first turn may start the stack
        check_master_address(settings.host_bind)
    return settings


def _out(args: argparse.Namespace, settings: Settings, kind: str) -> Path:
    return args.out or settings.results_dir / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{kind}"


def cmd_redline(args: argparse.Namespace) -> int:
    from capacity.search.redline import redline

    grid = with_worker_endpoints(with_generator(load_grid(args.grid), args.generator), args.worker_endpoint,
                                args.backend)
    check_period_backend(grid, args.backend)
    check_machine(grid, os.cpu_count() or 1)
    if args.repeats < 1 or (args.step is not None and args.step < 1):
        raise GridError("--repeats and --step must be >= 1")
    settings = _settings(args, grid)
    out = _out(args, settings, "redline")
    params = RedlineParams(repeats=args.repeats, step=args.step, target_users=args.target_users,
                           lock=str(args.lock) if args.lock else None)
    redline(grid, make_backend(args.backend, settings), out, settings, params, progress=not args.no_progress,
            report=write_redline_report)
    print(f"{out}/summary.md")
    print((out / "summary.md").read_text().splitlines()[0])
    return 0


def _predict(args: argparse.Namespace, out: Path, replicas: list[int], cpu_period_ms: int) -> dict:
    from capacity.campaign.run import open_search_run
    from capacity.search.knees import prediction
    if not args.knees or not (args.knees / RUN_JSON).is_file():
        raise GridError("--predict needs --knees <a redline run folder>")
    try:
        data = prediction(args.knees, args.users, replicas, args.margin, cpu_period_ms)
    except ValueError as exc:  # too few real knees: lower bounds are never fitted
        raise GridError(f"--predict from {args.knees}: {exc}") from None
    open_search_run(out, "find", load_grid(args.grid), "prediction", [],
                    FindParams(users=args.users, predict=True, knees=str(args.knees)))
    FindResult.save(out, data)
    write_find_report(out)
    return data


def _mark_confirmed(prediction_dir: Path, data: dict, out: Path) -> None:
    predicted = FindResult.read(prediction_dir)
    if data["status"] == "CONFIRMED" and data["answer"] and predicted.answer and all(
            data["answer"][k] == getattr(predicted.answer, k) for k in ("replicas", "cpus", "memory")):
        FindResult.confirm(prediction_dir, str(out))
        write_find_report(prediction_dir)


def cmd_find(args: argparse.Namespace) -> int:
    from capacity.search.find import find

    grid = with_worker_endpoints(with_generator(load_grid(args.grid), args.generator), args.worker_endpoint,
                                args.backend)
    if args.workers is not None:
        grid = grid.model_copy(update={"load": grid.load.model_copy(update={"workers": args.workers})})
    replicas, ladder = args.replicas or list(grid.grid.replicas), args.cpus or list(grid.grid.cpus)
    periods = [args.cpu_period] if args.cpu_period is not None else grid.grid.cpu_period_ms
    if len(periods) != 1:
        raise GridError(f"find measures one CFS period; the grid has cpu_period_ms = {periods}")
    ladder_knobs = {**grid.grid.model_dump(), "cpus": sorted(set(ladder)), "cpu_period_ms": periods}
    parse_grid({**grid.model_dump(), "grid": ladder_knobs})  # the ladder against the period (a quota >= 1 ms)
    knobs = grid.grid.model_copy(update={"cpu_period_ms": periods})
    grid = check_period_backend(grid.model_copy(update={"grid": knobs}), args.backend)
    if args.users < 1 or args.repeats < 1:
        raise GridError("--users and --repeats must be >= 1")
    settings = _settings(args, grid)
    out = _out(args, settings, "find")
    if args.predict:
        data = _predict(args, out, replicas, periods[0])  # the queueing model's stalls depend on the period
    else:
        check_machine(grid.model_copy(update={"grid": grid.grid.model_copy(update={"cpus": ladder})}),
                      os.cpu_count() or 1)
        params = FindParams(users=args.users, duration=args.duration or grid.load.duration, ladder=ladder,
                            replicas=replicas, repeats=args.repeats, margin=args.margin, memory=args.memory,
                            knees=str(args.knees) if args.knees else None, lock=str(args.lock) if args.lock else None)
        data = find(grid, make_backend(args.backend, settings), out, settings, params, progress=not args.no_progress,
                    report=write_find_report)
        if args.confirms:
            _mark_confirmed(args.confirms, data, out)
    print(f"{out}/summary.md")
    print((out / "summary.md").read_text().splitlines()[0])
    return 0 if data["status"] in ("CONFIRMED", "PREDICTED") else 1


def report(run_dir: Path) -> bool:
    """Rebuild a redline or find run's report; False if `run_dir` is a sweep."""
    kind = RunInfo.read(run_dir).kind
    if kind == "redline":
        print(f"{run_dir}/summary.md: {len(write_redline_report(run_dir))} configuration(s)")
        return True
    if kind == "find":
        print(f"{run_dir}/summary.md: {write_find_report(run_dir).status}")
        return True
    return False


def run(args: argparse.Namespace) -> int:
    try:
        return cmd_redline(args) if args.command == "redline" else cmd_find(args)
    except KeyboardInterrupt:
        print("\ninterrupted: what was measured is kept; rerun with the same --out to resume", file=sys.stderr)
        return 130
