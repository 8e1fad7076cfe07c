"""One variant after the other, under identical conditions: start pinned, check, warm up, load, measure, stop."""

from __future__ import annotations

import json
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import load, procs, profile
from bench.load import LoadResult
from bench.procs import Cores
from bench.variants import Variant


@dataclass(frozen=True)
class Plan:
    duration: float  # seconds per measurement (loaded and single-connection runs alike)
    warmup: float  # seconds of load before measuring, discarded
    connections: int  # the loaded run; the unloaded run uses 1
    locust_users: int
    locust_duration: float
    profile: bool


@dataclass
class Measurement:
    key: str
    label: str
    ready_s: float | None = None
    loaded: LoadResult | None = None
    single: LoadResult | None = None
    rss_mb: float | None = None
    locust: LoadResult | None = None
    error: str | None = None

    def value(self, attr: str) -> float | None:
        if attr in ("rps", "p50_ms", "p90_ms", "p99_ms"):
            return None if self.loaded is None else getattr(self.loaded, attr)
        return getattr(self, attr)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def check_answer(running: procs.Running) -> None:
    """One real request before any load: the server answers 200 with the right species for the row."""
    variant = running.variant
    request = urllib.request.Request(running.server.base_url + variant.predict_path, data=variant.body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as resp:
        data = json.loads(resp.read())
    if not variant.answer_ok(data):
        raise RuntimeError(f"{variant.label} answered {data!r} for the benchmark row")


def measure(variant: Variant, plan: Plan, cores: Cores, workdir: Path) -> Measurement:
    result = Measurement(variant.key, variant.label)
    body = workdir / f"{variant.key}-body.json"
    body.write_bytes(variant.body)
    log(f"{variant.label}: starting")
    running = procs.start(variant, cores.server, workdir)
    try:
        result.ready_s = running.ready_s
        check_answer(running)
        url = running.server.base_url + variant.predict_path
        log(f"{variant.label}: ready in {running.ready_s:.2f} s; warm-up {plan.warmup:.0f} s")
        load.wrk(url, body, plan.connections, plan.warmup, cores.load)
        result.loaded = load.wrk(url, body, plan.connections, plan.duration, cores.load)
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


def measure_all(variants: list[Variant], plan: Plan, cores: Cores, workdir: Path) -> list[Measurement]:
    """A variant that fails is reported with its error; the others are still measured."""
    results = []
    for variant in variants:
        try:
            results.append(measure(variant, plan, cores, workdir))
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
