"""`python -m capacity equivalence GRID --users 500,1000,2000`: Locust beside wrk on the same cells.

    python -m capacity equivalence capacity/grids/equivalence.toml [--users 500,1000,2000] [--repeats 3]
        [--out results/<ts>]
    python -m capacity equivalence capacity/grids/equivalence.toml --out results/<ts> --report   # tables only

Exit code 0 only when every pair agrees within the tolerances (search/equivalence.py).
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path

from capacity.backends import make_backend
from capacity.core.grid import GridError, check_machine, load_grid
from capacity.core.settings import Settings
from capacity.report.equivalence import SUMMARY, write_summary
from capacity.report.sweep import write_report
from capacity.search import equivalence


def _users(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected user counts like 500,1000,2000, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive user counts, got {text!r}")
    return values


def add_equivalence(sub) -> None:
    p = sub.add_parser("equivalence", help="Locust beside wrk: the same cells at the same user counts, compared")
    p.add_argument("grid", type=Path, help="the cells and the load (users set by --users)")
    p.add_argument("--users", type=_users, default=[500, 1000, 2000], help="user counts, e.g. 500,1000,2000")
    p.add_argument("--repeats", type=int, default=1, choices=range(1, 10), metavar="N",
                   help="runs per generator and cell, alternating which goes first; compared by their medians")
    p.add_argument("--backend", choices=("docker", "native"), default="docker")
    p.add_argument("--out", type=Path, help="run folder; an existing one is resumed")
    p.add_argument("--report", action="store_true", help="measure nothing: rebuild summary.md from --out")


def cmd_equivalence(args: argparse.Namespace) -> int:
    settings = Settings()
    out = args.out or settings.results_dir / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-equivalence"
    if args.report:
        if not out.is_dir():
            raise GridError(f"--report needs --out, an existing equivalence run folder (got {out})")
        found = write_summary(out, args.users)
    else:
        grid = load_grid(args.grid)
        check_machine(grid, os.cpu_count() or 1)
        found = equivalence.run(grid, args.users, out, lambda: make_backend(args.backend, settings), args.repeats,
                                sweep_report=write_report, report=lambda o: write_summary(o, args.users))
    print(f"{out}/{SUMMARY}")
    print((out / SUMMARY).read_text().splitlines()[0])
    return 0 if found and all(p.agrees for p in found) else 1
