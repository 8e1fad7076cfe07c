"""python -m wrkload run --host URL --users N --spawn-rate R --duration S [--shape ramp ...] --csv PREFIX"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from loadtest.settings import Settings
from wrkload.runner import plan_for, run
from wrkload.settings import WrkSettings


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m wrkload", description="wrk as Locust-like closed-loop users")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a fixed load or the ramp; write Locust's CSV files")
    r.add_argument("--host", help="base URL (default LOCUST_HOST)")
    r.add_argument("--users", type=int)
    r.add_argument("--spawn-rate", type=float)
    r.add_argument("--duration", type=float, help="seconds (fixed load)")
    r.add_argument("--shape", choices=("none", "ramp"), help="default LOCUST_SHAPE")
    r.add_argument("--step-users", type=int)
    r.add_argument("--step-duration", type=float)
    r.add_argument("--max-users", type=int)
    r.add_argument("--hold", type=float)
    r.add_argument("--csv", required=True, help="prefix of the files, e.g. results/run/locust")
    r.add_argument("--summary", action="store_true", help="also write summary.json/.md beside (loadtest.summary)")
    return p


def _load(args: argparse.Namespace) -> Settings:
    update = {k: v for k, v in {"host": args.host, "shape": args.shape, "step_users": args.step_users,
                                "step_duration_s": args.step_duration, "max_users": args.max_users,
                                "hold_duration_s": args.hold, "step_spawn_rate": args.spawn_rate
                                if args.shape == "ramp" else None}.items() if v is not None}
    return Settings(**{**Settings().model_dump(), **update})


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    load = _load(args)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
    result = run(load.host, args.csv, plan_for(load, args.users, args.spawn_rate, args.duration), load,
                 WrkSettings(), stop)
    if args.summary:
        from loadtest.summary import write_summary

        write_summary(Path(args.csv).parent)
    cpu = result.cpu_us_per_request
    print(f"{args.csv}: {result.requests} answers, {result.failures} failures, wrk CPU {result.cpu_s:.2f} s "
          f"({cpu:.0f} us per request)" if cpu else f"{args.csv}: no answers")
    for g in result.generators:
        print(f"  {g.name}: peak CPU {g.cpu_pct}%, run-queue wait {g.runqueue_pct}%")
    return 0 if result.requests else 1


if __name__ == "__main__":
    raise SystemExit(main())
