"""`python -m bench [--duration 10] [--smoke] [--profile] [--tracking-uri URI --model-name N --model-alias A]`.

Without --tracking-uri it starts PostgreSQL, S3 and `mlflow server` (tests/realservers) and runs the trainer.
The alias is resolved once: every server loads that registered version. MLServer and BentoML run from their own
virtualenvs (bench/peers/*.lock, built on first use into .venv/bench/). The deployed path (compose stack, lb)
is measured too unless --smoke or --no-deployed.
Exit code 1 when a variant could not be measured or disagrees with our predictions; missed targets are reported,
not failed.
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from bench import deployed, image, machine, payload, report, run, targets, variants
from bench.procs import Cores
from bench.stack import resolve, start_stack
from bench.variants import ROOT, ModelRef

VARIANT_KEYS = ("ours", "mlflow-serve", "usual", "mlserver", "mlserver-batch", "mlserver-invocations", "bentoml",
                "bentoml-batch", "ceiling")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="2 s per measurement, 16 connections, short Locust")
    p.add_argument("--duration", type=float, help="seconds per measurement (default 10, smoke 2)")
    p.add_argument("--warmup", type=float, help="seconds of discarded load first (default 3, smoke 1)")
    p.add_argument("--connections", type=int, help="connections of the loaded run (default 64, smoke 16)")
    p.add_argument("--locust-users", type=int, help="Locust cross-check users, 0 = none (default 64, smoke 8)")
    p.add_argument("--profile", action="store_true", help="py-spy flamegraph + top of our API under load")
    p.add_argument("--tracking-uri", help="use this MLflow server and its registered model")
    p.add_argument("--model-name", default="penguins-classifier")
    p.add_argument("--model-alias", default="production")
    p.add_argument("--variants", default=",".join(VARIANT_KEYS), help="comma-separated subset")
    p.add_argument("--repeats", type=int, help="loaded runs per variant, median reported (default 3, smoke 1)")
    p.add_argument("--lock-wait", type=float, default=deployed.LOCK_WAIT_S,
                   help="seconds to wait for /tmp/lab-docker.lock after the last variant (default %(default)s)")
    p.add_argument("--no-deployed", action="store_true", help="skip the deployed path (compose stack + lb)")
    p.add_argument("--api-image", help="image to size (default: the api image of `docker compose config`)")
    p.add_argument("--out", type=Path, default=ROOT / "results" / "bench", help="output folder")
    return p.parse_args(argv)


def make_plan(args: argparse.Namespace) -> run.Plan:
    smoke = args.smoke
    duration = args.duration or (2.0 if smoke else 10.0)
    users = args.locust_users if args.locust_users is not None else (8 if smoke else 64)
    return run.Plan(duration=duration, warmup=args.warmup or (1.0 if smoke else 3.0),
                    connections=args.connections or (16 if smoke else 64), locust_users=users,
                    locust_duration=2.0 if smoke else 5.0, profile=args.profile,
                    repeats=args.repeats or (1 if smoke else 3))


def conditions(plan: run.Plan, cores: Cores, model: ModelRef) -> dict[str, str]:
    pinning = ("no pinning (fewer than 2 cores)" if cores.server is None
               else f"server `taskset -c {cores.server}`, load generator `taskset -c {cores.load}`")
    return {
        "Pinning": pinning,
        "Load": f"wrk -t1 with bench/post.lua, {plan.connections} connections ({plan.repeats} runs back to back, "
                f"the median reported with the lowest-highest) then 1, {plan.duration:.0f} s each "
                f"after {plan.warmup:.0f} s of discarded warm-up; same body for all (palmerpenguins row 1; "
                "`dataframe_records` wrapper for mlflow models serve)",
        "Model": f"models:/{model.name}@{model.alias} = version {model.version} from a real `mlflow server` "
                 f"(PostgreSQL + S3); the peers load `models:/{model.name}/{model.version}`, our API resolves "
                 "the alias itself",
        "Predictions": f"before any load, every model server answers the same {len(payload.check_rows())} "
                       "palmerpenguins rows (4 per species), one request each in its own format, and must "
                       "predict our species for each",
        "Load average at start": machine.load_average(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan, cores = make_plan(args), Cores.detect()
    stamp = datetime.now().strftime("%Y-%m-%d")
    name = f"{stamp}-smoke" if args.smoke else stamp
    workdir = args.out / "_work" / datetime.now().strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with ExitStack() as stack:
        if args.tracking_uri:
            model = ModelRef(args.tracking_uri, args.model_name, args.model_alias)
        else:
            run.log("starting PostgreSQL, S3, mlflow server and the trainer")
            model = start_stack(stack, workdir, args.model_name, args.model_alias)
        model = resolve(model)
        wanted = set(args.variants.split(","))
        chosen = [v for v in variants.all_variants(model, workdir) if v.key in wanted]
        conds = conditions(plan, cores, model)
        lb = None if args.smoke or args.no_deployed else DeployedStep(plan, cores, workdir, model, args.lock_wait)
        rows = run.measure_all(chosen, plan, cores, workdir, payload.check_rows(), lb.try_now if lb else None)
        behind_lb = lb.finish() if lb else None
        prof = None
        if plan.profile:
            run.log("profiling our API under load with py-spy")
            prof = run.profile_under_load(variants.ours(model), plan, cores, workdir, args.out, name)
    conds["Load average at end"] = machine.load_average()
    conds["Wall time"] = f"{time.monotonic() - started:.0f} s"
    size = image.measure(args.api_image)
    checks = targets.evaluate({r.key: r for r in rows}, plan.connections, size.added_mb, behind_lb)
    result = report.Run(stamp, args.smoke, plan, machine.describe(), conds, rows, checks, size, prof, behind_lb)
    paths = report.write_all(result, args.out)
    print(paths["md"].read_text())
    run.log("wrote " + ", ".join(str(p) for p in paths.values()))
    return 1 if any(r.error for r in rows) or isinstance(behind_lb, str) else 0


class DeployedStep:
    """The deployed path, measured between two variants as soon as the docker lock is free (other helpers' stack
    tests hold it for minutes), else after the last variant, waiting at most deployed.LOCK_WAIT_S."""

    def __init__(self, plan: run.Plan, cores: Cores, workdir: Path, model: ModelRef, lock_wait_s: float) -> None:
        self.plan, self.cores, self.lock_wait_s, self.result = plan, cores, lock_wait_s, None
        self.body = workdir / "deployed-body.json"
        self.body.write_bytes(variants.ours(model).body)

    def try_now(self, wait_s: float = 0) -> None:
        if self.result is not None:
            return
        try:
            self.result = deployed.measure(self.body, self.plan, self.cores, run.log, lock_wait_s=wait_s)
        except deployed.LockBusy as exc:
            if wait_s:
                self.result = f"not measured: {exc}"
        except Exception as exc:  # noqa: BLE001 - reported in the results and in the exit code
            run.log(f"deployed path: FAILED: {exc}")
            self.result = f"not measured: {(str(exc).splitlines() or [repr(exc)])[0][:300]}"

    def finish(self) -> deployed.Deployed | str:
        if self.result is None:
            run.log(f"deployed path: waiting for {deployed.LOCK} (at most {self.lock_wait_s:.0f} s)")
            self.try_now(self.lock_wait_s)
        return self.result

if __name__ == "__main__":
    raise SystemExit(main())
