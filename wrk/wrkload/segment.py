"""One wrk process for one segment: start it, sample its threads, stop it, parse what user.lua's done() wrote."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from wrkload.meter import ThreadMeter
from wrkload.plan import Segment
from wrkload.settings import WrkSettings

ERRORS = ("connect", "read", "write", "status", "timeout")
FIELDS = {"summary": 8, "lat": 2, "start": 2, "sec": 4, "kind": 4, "fail": 3}  # done()'s lines, after the tag


@dataclass
class SegmentResult:
    segment: Segment
    started: float  # unix time the wrk threads started (their Lua init)
    ended: float  # unix time the process ended
    duration_us: int  # wrk's own run time
    requests: int  # answers wrk parsed
    bytes: int
    errors: dict[str, int]  # wrk's socket-level counters (status > 399 is counted by Lua too)
    latency_us: Counter  # exact: microseconds -> answers (wrk's histogram, up to the timeout)
    per_second: dict[int, list[int]] = field(default_factory=dict)  # unix s -> [answers, failures]
    kinds: dict[str, list[int]] = field(default_factory=dict)  # kind -> [answers, failures]
    failures: Counter = field(default_factory=Counter)  # (kind, reason) -> count
    cpu_s: float = 0.0  # wrk's user + system CPU, all threads (wait4's rusage)
    returncode: int = 0
    stopped: bool = False  # ended early by stop()
    crashed: bool = False  # died of a signal nobody sent: its partial output is not read, `started` is its launch


def command(ws: WrkSettings, host: str, seg: Segment, plan: Path) -> list[str]:
    threads = max(1, min(ws.threads, seg.users))
    connections = threads * -(-seg.users // threads)
    return [ws.binary, "-t", str(threads), "-c", str(connections), "-d", f"{seg.duration_s}s",
            "--timeout", f"{ws.timeout_s}s", "-s", str(ws.script), host, "--", str(plan)]


def parse(text: str, seg: Segment, ended: float, cpu_s: float, code: int, stopped: bool) -> SegmentResult:
    res = SegmentResult(seg, started=0.0, ended=ended, duration_us=0, requests=0, bytes=0, errors={},
                        latency_us=Counter(), cpu_s=cpu_s, returncode=code, stopped=stopped)
    starts = []
    for line in text.splitlines():
        kind, *f = line.split("\t")
        if len(f) < FIELDS.get(kind, 0):  # the last line of a process killed while done() wrote
            continue
        if kind == "summary":
            res.duration_us, res.requests, res.bytes = int(f[0]), int(f[1]), int(f[2])
            res.errors = dict(zip(ERRORS, map(int, f[3:8]), strict=True))
        elif kind == "lat":
            res.latency_us[int(f[0])] += int(f[1])
        elif kind == "start":
            starts.append(float(f[1]))
        elif kind == "sec":
            b = res.per_second.setdefault(int(f[1]), [0, 0])
            b[0], b[1] = b[0] + int(f[2]), b[1] + int(f[3])
        elif kind == "kind":
            k = res.kinds.setdefault(f[1], [0, 0])
            k[0], k[1] = k[0] + int(f[2]), k[1] + int(f[3])
        elif kind == "fail":
            res.failures[(f[2], "\t".join(f[3:]))] += int(f[1])
    res.started = min(starts, default=ended - res.duration_us / 1e6)
    return res


def run_segment(ws: WrkSettings, host: str, seg: Segment, plan: Path, out: Path, samples: Path,
                stop: threading.Event) -> SegmentResult:
    """Run wrk for `seg` (bounded: duration + grace, then SIGINT, then SIGKILL); `stop` ends it early."""
    env = {**os.environ, "WRKLOAD_OUT": str(out)}
    with open(out.with_suffix(".log"), "w") as log:
        proc = subprocess.Popen(command(ws, host, seg, plan), stdout=log, stderr=subprocess.STDOUT, env=env)
    t0, start = time.time(), time.monotonic()
    meter = ThreadMeter(proc.pid, samples, ws.sample_interval_s, lambda: seg.users_at(time.time() - t0)).start()
    interrupted: float | None = None
    stopped, metered = False, False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        elapsed = time.monotonic() - start
        if not metered and (elapsed > seg.duration_s - 0.5 or stop.is_set()):
            meter.stop()  # the last sample while wrk's threads still run (they end at -d, before done())
            metered = True
        if interrupted is None and (stop.is_set() or elapsed > seg.duration_s + ws.grace_s):
            stopped = stop.is_set()
            proc.send_signal(signal.SIGINT)  # wrk stops its threads and still calls done()
            interrupted = time.monotonic()
        elif interrupted is not None and time.monotonic() - interrupted > ws.kill_after_s:
            proc.kill()
        time.sleep(0.1)
    meter.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu_s = usage.ru_utime + usage.ru_stime
    if proc.returncode < 0 and interrupted is None:
        # LuaJIT inside Debian's wrk died of SIGSEGV in done() twice in ~40 ramps (2026-12-06 and -07, the
        # kernel log names libluajit): what it wrote is partial. The runner measures the segment again.
        return SegmentResult(seg, started=t0, ended=time.time(), duration_us=0, requests=0, bytes=0, errors={},
                             latency_us=Counter(), cpu_s=cpu_s, returncode=proc.returncode, crashed=True)
    text = out.read_text() if out.exists() else ""
    return parse(text, seg, time.time(), cpu_s, proc.returncode, stopped)
