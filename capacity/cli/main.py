"""python -m capacity: run a capacity sweep, rebuild a run's report, or check a grid.

    python -m capacity sweep capacity/grids/default.toml [--backend docker|native|swarm] [--out results/<ts>]
    python -m capacity report results/<ts>
    python -m capacity check capacity/grids/default.toml
    python -m capacity redline capacity/grids/redline.toml      # the knee of every configuration
    python -m capacity find --users 2000                          # the cheapest deployment for N users
    python -m capacity equivalence capacity/grids/equivalence.toml  # Locust beside wrk on the same cells
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path

from capacity.backends import add_backend_arguments, backend_settings, make_backend
from capacity.campaign.cell import Backend
from capacity.cli.equivalence import add_equivalence, cmd_equivalence
from capacity.cli.search import add_commands, add_worker_endpoint, report, run
from capacity.core.cells import CellError, expand
from capacity.core.grid import (
    Grid,
    GridError,
    check_machine,
    check_period_backend,
    load_grid,
    with_generator,
    with_worker_endpoints,
)
from capacity.core.run_info import RUN_JSON
from capacity.core.settings import Settings
from capacity.report.sweep import write_report
from capacity.search import sweep as search_sweep


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m capacity", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sweep = sub.add_parser("sweep", help="run every cell of a grid and write results/<timestamp>/")
    sweep.add_argument("grid", type=Path, help="grid file (TOML), e.g. capacity/grids/default.toml")
    add_backend_arguments(sweep)
    sweep.add_argument("--out", type=Path, help="run folder; an existing one is resumed (finished cells skipped)")
    sweep.add_argument("--tracking-uri", help="native backend: the MLflow registry the API processes load from "
                                              "(default MLFLOW_TRACKING_URI)")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar (logs, CI)")
    add_worker_endpoint(sweep)
    report = sub.add_parser("report", help="rebuild summary.csv, summary.md and charts of a run folder")
    report.add_argument("run_dir", type=Path)
    check = sub.add_parser("check", help="validate a grid and list its cells with the knobs each sets")
    check.add_argument("grid", type=Path)
    add_commands(sub)
    add_equivalence(sub)
    return parser


def sweep(grid: Grid, backend: Backend, out: Path, progress: bool = True) -> Path:
    """The sweep, and its report (also after Ctrl-C: what was measured is kept)."""
    return search_sweep.sweep(grid, backend, out, progress, report=write_report)


def cmd_sweep(args: argparse.Namespace, settings: Settings) -> int:
    grid = with_worker_endpoints(with_generator(load_grid(args.grid), args.generator), args.worker_endpoint,
                                args.backend)
    check_period_backend(grid, args.backend)
    check_machine(grid, os.cpu_count() or 1)
    if args.tracking_uri and args.backend == "docker":
        print("note: --tracking-uri is ignored by the docker backend (its api uses the stack's mlflow)",
              file=sys.stderr)
    if args.tracking_uri:
        settings = settings.model_copy(update={"mlflow_tracking_uri": args.tracking_uri})
    out = args.out or settings.results_dir / datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        sweep(grid, make_backend(args.backend, backend_settings(args, settings)), out, progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished cells are in {out}; resume with --out {out}", file=sys.stderr)
        return 130
    print(f"{out}/summary.md")
    print((out / "summary.md").read_text().splitlines()[0])
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    grid = load_grid(args.grid)
    check_machine(grid, os.cpu_count() or 1)
    cells = expand(grid)
    print(f"{args.grid}: {len(cells)} cells, ~{grid.load.run_seconds:g} s of load each")
    for cell in cells:
        print(f"  {cell.slug:32} " + " ".join(f"{k}={v}" for k, v in cell.env(grid.lb).items()))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "report":
            if not (args.run_dir / RUN_JSON).is_file():
                raise GridError(f"{args.run_dir}: not a capacity run folder (no run.json)")
            if report(args.run_dir):
                return 0
            records = write_report(args.run_dir)
            print(f"{args.run_dir}/summary.md: {len(records)} cell(s)")
            return 0
        if args.command == "check":
            return cmd_check(args)
        if args.command in ("redline", "find"):
            return run(args)
        if args.command == "equivalence":
            return cmd_equivalence(args)
        return cmd_sweep(args, Settings())
    except (GridError, CellError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
