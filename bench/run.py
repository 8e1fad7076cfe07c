"""One variant after the other, under identical conditions: start pinned, check, warm up, load, measure, stop."""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import load, procs, profile
from bench.load import LoadResult
from bench.procs import Cores
from bench.variants import Variant, no_model


@dataclass(frozen=True)
class Plan:
    duration: float  # seconds per measurement (loaded and single-connection runs alike)
    warmup: float  # seconds of load before measuring, discarded
    connections: int  # the loaded run; the unloaded run uses 1
    locust_users: int
    locust_duration: float
    profile: bool
    repeats: int = 1  # loaded runs back to back; the median one is reported, with the spread


@dataclass
class Measurement:
    key: str
    label: str
    ready_s: float | None = None
    loaded: LoadResult | None = None
    single: LoadResult | None = None
    rss_mb: float | None = None
    rps_spread: tuple[float, float] | None = None  # lowest and highest requests/s of the repeats
    cpu_us_per_request: float | None = None  # server CPU (process tree) during the loaded run / its requests
    locust: LoadResult | None = None
    predictions: list[str | None] | None = None  # its answers to the check rows (bench.payload.check_rows)
    notes: str = ""
    error: str | None = None

    def value(self, attr: str) -> float | None:
        if attr in ("rps", "p50_ms", "p90_ms", "p99_ms"):
            return None if self.loaded is None else getattr(self.loaded, attr)
        return getattr(self, attr)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def predictions(running: procs.Running, rows: list[dict]) -> list[str | None]:
    """Before any load: each check row, one request each, in the variant's own request format."""
    variant, answers = running.variant, []
    for row in rows:
        request = urllib.request.Request(running.server.base_url + variant.predict_path, data=variant.encode(row),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            answers.append(variant.species(json.loads(resp.read())))
    return answers


def check_predictions(variant: Variant, got: list[str | None], reference: list[str] | None) -> None:
    """Every model server must predict what ours predicts, row by row; the ceiling has no model to check."""
    if variant.species is no_model or reference is None:
        return
    if got != reference:
        wrong = [i for i, (a, b) in enumerate(zip(got, reference, strict=True)) if a != b]
        raise RuntimeError(f"{variant.label} disagrees with our API on check rows {wrong}: {got} vs {reference}")


def measure(variant: Variant, plan: Plan, cores: Cores, workdir: Path, rows: list[dict],
            reference: list[str] | None) -> Measurement:
    result = Measurement(variant.key, variant.label, notes=variant.notes)
    body = workdir / f"{variant.key}-body.json"
    body.write_bytes(variant.body)
    if variant.prepare is not None:
        log(f"{variant.label}: preparing (virtualenv, model import)")
        variant.prepare()
    log(f"{variant.label}: starting")
    running = procs.start(variant, cores.server, workdir)
    try:
        result.ready_s = running.ready_s
        result.predictions = predictions(running, rows)
        check_predictions(variant, result.predictions, reference)
        url = running.server.base_url + variant.predict_path
        log(f"{variant.label}: ready in {running.ready_s:.2f} s; warm-up {plan.warmup:.0f} s")
        load.wrk(url, body, plan.connections, plan.warmup, cores.load)
        cpu_before = procs.tree_cpu_seconds(running.server.pid)
        runs = [load.wrk(url, body, plan.connections, plan.duration, cores.load) for _ in range(plan.repeats)]
        cpu_s = procs.tree_cpu_seconds(running.server.pid) - cpu_before
        result.cpu_us_per_request = cpu_s / max(1, sum(r.requests for r in runs)) * 1e6
        result.loaded = sorted(runs, key=lambda r: r.rps)[len(runs) // 2]  # the median run
        result.rps_spread = (min(r.rps for r in runs), max(r.rps for r in runs))
        result.single = load.wrk(url, body, 1, plan.duration, cores.load)
        result.rss_mb = procs.tree_rss_mb(running.server.pid)
        log(f"{variant.label}: {result.loaded.rps:.0f} req/s, p99 {result.loaded.p99_ms:.2f} ms, "
            f"RSS {result.rss_mb:.0f} MB")
        if variant.key == "ours" and plan.locust_users:
            result.locust = load.locust(running.server.base_url, variant.predict_path, body, plan.locust_users,
                                        plan.locust_duration, cores.load)
    finally:
        running.server.stop()
    return result


def measure_all(variants: list[Variant], plan: Plan, cores: Cores, workdir: Path, rows: list[dict],
                between: Callable[[], None] | None = None) -> list[Measurement]:
    """A variant that fails is reported with its error; the others are still measured. Our API's answers to the
    check rows (it runs first) are the reference every other model server must match."""
    results, reference = [], None
    for variant in variants:
        if between is not None:
            between()
        try:
            results.append(measure(variant, plan, cores, workdir, rows, reference))
            if variant.key == "ours":
                reference = results[-1].predictions
        except Exception as exc:  # noqa: BLE001 - the report names the failure, the exit code says it
            log(f"{variant.label}: FAILED: {exc}")
            first_line = (str(exc).splitlines() or [repr(exc)])[0][:300]
            error = f"{first_line} (log: {workdir / variant.key}.log)"
            results.append(Measurement(variant.key, variant.label, error=error))
    return results


def profile_under_load(variant: Variant, plan: Plan, cores: Cores, workdir: Path, outdir: Path,
                       name: str) -> profile.Profile | str:
    """A separate loaded run of `variant` (not one of the measurements) with py-spy attached."""
    if profile.py_spy() is None:
        return "py-spy not installed (pip install -r bench/requirements.txt)"
    body = workdir / f"{variant.key}-body.json"
    body.write_bytes(variant.body)
    running = procs.start(variant, cores.server, workdir)
    try:
        url = running.server.base_url + variant.predict_path
        load.wrk(url, body, plan.connections, plan.warmup, cores.load)
        started = profile.start(running.server.pid, plan.duration, outdir, name)
        load.wrk(url, body, plan.connections, plan.duration + 1, cores.load)
        return profile.finish(started, timeout=plan.duration + 30)
    finally:
        running.server.stop()

