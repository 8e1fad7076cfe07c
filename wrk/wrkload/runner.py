"""Run a load shape with wrk and write Locust's files: the Python API the capacity runner calls.

    from loadtest.settings import Settings
    from wrkload.runner import plan_for, run
    load = Settings()                                   # LOCUST_*: think time, mix, shape, thresholds
    result = run("http://127.0.0.1:8000", "results/x/locust", plan_for(load, users=1000, spawn_rate=100,
                 duration_s=60), load)                  # blocks; stop.set() from another thread ends it early
    result.files, result.requests, result.cpu_us_per_request, result.generators
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

from loadtest.settings import Settings
from loadtest.validity import Generator
from wrkload import output, plan_file, requests
from wrkload.plan import Segment, first_delays_ms, fixed, ramp
from wrkload.segment import SegmentResult, command, run_segment
from wrkload.settings import WrkSettings

RUN_SUFFIX = "_generator.json"  # loadtest.telemetry.RUN_SUFFIX
SAMPLES_SUFFIX = "_generator.csv"


@dataclass
class RunResult:
    prefix: str
    segments: list[SegmentResult]
    files: dict[str, Path]
    requests: int
    failures: int
    cpu_s: float  # all wrk processes, user + system
    generators: list[Generator] = field(default_factory=list)  # per wrk thread: peak CPU %, mean run-queue %
    stopped: bool = False

    @property
    def cpu_us_per_request(self) -> float | None:
        return 1e6 * self.cpu_s / self.requests if self.requests else None


def plan_for(load: Settings, users: int | None = None, spawn_rate: float | None = None,
             duration_s: float | None = None) -> tuple[Segment, ...]:
    """Fixed load (users, spawn_rate, duration) for LOCUST_SHAPE=none, else the ramp from the settings."""
    if load.shape == "ramp":
        return ramp(load.step_users, load.step_duration_s, load.max_users, load.hold_duration_s,
                    load.step_spawn_rate)
    if users is None or spawn_rate is None or duration_s is None:
        raise ValueError("a fixed load needs users, spawn_rate and duration_s")
    return fixed(users, spawn_rate, duration_s)


def _segment(ws: WrkSettings, load: Settings, host: str, seg: Segment, work: Path, name: str,
             samples: Path, stop: threading.Event, rng: random.Random) -> SegmentResult:
    threads = max(1, min(ws.threads, seg.users))
    delays = first_delays_ms(seg, load.wait_min, load.wait_max, rng)
    idle_ms = int(1000 * (seg.duration_s + ws.grace_s + 60))
    plan = work / f"segment-{name}.lua"
    plan_file.write(plan, requests.draw(load, ws.sequence_length, rng), plan_file.deal(delays, threads, idle_ms),
                    load.wait_min, load.wait_max, load.batch_size, rng.randrange(1 << 30))
    return run_segment(ws, host, seg, plan, work / f"segment-{name}.out", samples, stop)


def _record(load: Settings, ws: WrkSettings, host: str, results: list[SegmentResult], cpu_s: float) -> dict:
    ok = {k: sum(r.kinds.get(k, [0, 0])[0] - r.kinds.get(k, [0, 0])[1] for r in results) for k in requests.NAMES}
    gaps = [round(b.started - a.ended, 3) for a, b in zip(results, results[1:], strict=False)]
    return {"generator": "wrk", "cpu_threshold_pct": load.validity_max_cpu_pct, "locust_cpu_warning": False,
            "locust_worker_cpu_warning": False, "workers": max(1, ws.threads), "think_time_s": load.think_time_s,
            # species validated (a known species, ids and names consistent); wrk's Lua cannot tell which
            # request an answer belongs to, so the true species is not compared: mismatches unknown, not 0.
            "checked": 0, "validated": ok["natural"] + ok["legacy"] + ok["batch"] * load.batch_size,
            "mismatches": 0, "wrk_cpu_s": round(cpu_s, 3), "boundary_gaps_s": gaps,
            "segments": [{"present": r.segment.present, "new": r.segment.new, "duration_s": r.segment.duration_s,
                          "started": r.started, "ended": r.ended, "requests": r.requests, "errors": r.errors,
                          "cpu_s": round(r.cpu_s, 3), "returncode": r.returncode, "crashed": r.crashed,
                          "command": command(ws, host, r.segment, Path("plan.lua"))} for r in results]}


def run(host: str, prefix: str | Path, segments: tuple[Segment, ...], load: Settings | None = None,
        ws: WrkSettings | None = None, stop: threading.Event | None = None) -> RunResult:
    """Run the segments one wrk process each; write <prefix>_stats.csv, _stats_history.csv, _failures.csv,
    _generator.csv (per-thread CPU / run-queue samples) and _generator.json; work files in <prefix>_wrk/."""
    load, ws, stop = load or Settings(), ws or WrkSettings(), stop or threading.Event()
    prefix = str(prefix)
    work = Path(prefix + "_wrk")
    work.mkdir(parents=True, exist_ok=True)
    samples = Path(prefix + SAMPLES_SUFFIX)
    samples.unlink(missing_ok=True)
    rng = random.Random(ws.seed)
    results: list[SegmentResult] = []
    files = {"stats": Path(prefix + "_stats.csv"), "history": Path(prefix + "_stats_history.csv"),
             "failures": Path(prefix + "_failures.csv"), "samples": samples, "record": Path(prefix + RUN_SUFFIX)}
    for i, seg in enumerate(segments):
        if stop.is_set():
            break
        results.append(_segment(ws, load, host, seg, work, str(i), samples, stop, rng))
        if results[-1].crashed and not stop.is_set():  # once: the crashed one stays in the record, as a gap
            results.append(_segment(ws, load, host, seg, work, f"{i}-again", samples, stop, rng))
        # after every segment, not only at the end: a ramp's watcher (capacity's early stop) judges the finished
        # steps from this file while the run goes on, and stops a ramp whose step failed
        output.write_history(files["history"], results)
    if not results:
        raise RuntimeError("stopped before the first segment")
    output.write_stats(files["stats"], results)
    output.write_failures(files["failures"], results)
    cpu_s = sum(r.cpu_s for r in results)
    files["record"].write_text(json.dumps(_record(load, ws, host, results, cpu_s), indent=2) + "\n")
    from loadtest.health import generators, read_samples

    total = sum(sum(r.kinds.get(k, [0, 0])[0] for k in r.kinds) for r in results)
    fails = sum(sum(v[1] for v in r.kinds.values()) + sum(output.socket_failures(r).values()) for r in results)
    return RunResult(prefix, results, files, total, fails, cpu_s, generators(read_samples(samples)),
                     stopped=stop.is_set())
