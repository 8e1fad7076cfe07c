"""`python -m bench.load_memory --tracking-uri URI [--runs 3]`: memory and time of the API's model load.

Starts the real API (`python -m inference`, its production configuration) against a running MLflow server with
a registered model, samples the resident memory of the server and all its children every 20 ms from /proc until
`/ready` answers 200, then stops it. What a container's memory limit sees is the sum, so the figure is the peak
of server RSS + children RSS. Also printed: the per-process high-water marks (VmHWM, exact even between samples;
their sum is an upper bound of the true peak). Prints one line per run and the median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import tree_rss_mb
from bench.variants import ROOT
from labtools import free_port, spawn, tree_pids, wait_http

FASTAPI_DIR = ROOT / "fastapi"


@dataclass
class Sample:
    server: int = 0
    ready_s: float = float("nan")
    peak_mb: float = 0.0
    hwm_kb: dict[int, int] = field(default_factory=dict)  # pid -> VmHWM seen
    seen: dict[int, list[float]] = field(default_factory=dict)  # child pid -> [first, last] seconds seen

    def server_hwm_mb(self) -> float:
        return self.hwm_kb.get(self.server, 0) / 1024

    def bound_mb(self) -> float:
        """Server high-water mark + the largest child's (load children never overlap)."""
        child = max((kb for pid, kb in self.hwm_kb.items() if pid != self.server), default=0)
        return self.server_hwm_mb() + child / 1024


def _status(pid: int, key: str) -> int:
    """A kB figure of /proc/<pid>/status: VmRSS, or VmHWM (the peak, which psutil does not report)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _sample_tree(pid: int, sample: Sample, now: float) -> None:
    pids = tree_pids(pid)
    for child in pids[1:]:
        sample.seen.setdefault(child, [now, now])[1] = now
    total = 0
    for p in pids:
        total += _status(p, "VmRSS:")
        sample.hwm_kb[p] = max(sample.hwm_kb.get(p, 0), _status(p, "VmHWM:"))
    sample.peak_mb = max(sample.peak_mb, total / 1024)


def _watch_ready(url: str, started: float, sample: Sample, done: threading.Event, proc, timeout: float) -> None:
    """Sets `sample.ready_s` and `done` at the first 200 from `url`; the sampling loop notices exits and timeouts."""
    try:
        wait_http(url, timeout, proc, interval=0.05)
    except (RuntimeError, TimeoutError):
        return
    sample.ready_s = time.monotonic() - started
    done.set()


def measure_once(args: argparse.Namespace, workdir: Path) -> Sample:
    port = free_port()
    env = {"MLFLOW_TRACKING_URI": args.tracking_uri, "MODEL_NAME": args.model_name,
           "MODEL_ALIAS": args.model_alias, "API_HOST": "127.0.0.1", "API_PORT": str(port),
           "PYTHONPATH": str(args.app_dir), "MODEL_RELOAD_INTERVAL_S": "3600"}
    sample, done = Sample(), threading.Event()
    started = time.monotonic()
    managed = spawn([sys.executable, "-m", "inference"], workdir / f"api-{port}.log", env=env, cwd=args.app_dir)
    sample.server = managed.pid
    watcher = threading.Thread(target=_watch_ready, daemon=True, args=(
        f"http://127.0.0.1:{port}/ready", started, sample, done, managed.proc, args.timeout))
    watcher.start()
    try:
        while not done.wait(args.interval):
            _sample_tree(managed.pid, sample, time.monotonic() - started)
            if managed.proc.poll() is not None or time.monotonic() - started > args.timeout:
                raise RuntimeError(f"API not ready (exit {managed.proc.returncode}):\n{managed.log_tail()}")
        _sample_tree(managed.pid, sample, time.monotonic() - started)
        sample.peak_mb = max(sample.peak_mb, tree_rss_mb(managed.pid))
    finally:
        done.set()
        managed.stop()
    return sample


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.load_memory", description=__doc__.splitlines()[0])
    p.add_argument("--tracking-uri", required=True, help="MLflow server with the registered model")
    p.add_argument("--model-name", default="penguins-classifier")
    p.add_argument("--model-alias", default="production")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--app-dir", type=Path, default=FASTAPI_DIR,
                   help="folder holding the inference package (e.g. a `git archive` of another commit)")
    p.add_argument("--interval", type=float, default=0.02, help="seconds between /proc samples")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--workdir", type=Path, default=ROOT / "results" / "bench" / "_work" / "load_memory")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for run in range(1, args.runs + 1):
        s = measure_once(args, args.workdir)
        rows.append(s)
        print(f"run {run}: ready {s.ready_s:.2f} s  peak server+children RSS {s.peak_mb:.0f} MB  "
              f"(VmHWM server {s.server_hwm_mb():.0f} MB, server + largest child {s.bound_mb():.0f} MB, "
              f"{len(s.seen)} child process(es))", flush=True)
        for first, last in sorted(s.seen.values()):
            print(f"       child alive {first:.2f}-{last:.2f} s", flush=True)
    print(f"median of {len(rows)}: ready {statistics.median(r.ready_s for r in rows):.2f} s  "
          f"peak {statistics.median(r.peak_mb for r in rows):.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
