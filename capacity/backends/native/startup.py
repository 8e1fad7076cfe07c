"""The native backend's start-up: one replica started as the backend starts it (`python -m inference` pinned
with taskset); RSS of its process tree sampled every 0.1 s until /ready answers 200."""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path

from capacity.backends.startup import MIB, Startup
from capacity.core.cells import Cell
from capacity.core.provenance import ROOT
from capacity.core.settings import Settings
from labtools import answers, free_port, spawn, tree_rss_bytes


def native_startup(cell: Cell, settings: Settings, log: Path) -> Startup:
    port, cores = free_port(), sorted(os.sched_getaffinity(0))
    env = {"API_HOST": "127.0.0.1", "API_PORT": str(port), "WEB_CONCURRENCY": str(cell.processes),
           "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri, "MODEL_NAME": settings.model_name,
           "MODEL_ALIAS": settings.model_alias, "PYTHONPATH": str(ROOT / "fastapi")}
    pinned = ",".join(map(str, cores[: max(1, min(math.ceil(cell.cpus), len(cores)))]))
    t0, peak, samples = time.monotonic(), 0, 0
    server = spawn(["taskset", "-c", pinned, sys.executable, "-m", "inference"], log, env, ROOT / "fastapi")
    try:
        while time.monotonic() - t0 < settings.ready_timeout_s:
            peak, samples = max(peak, tree_rss_bytes(server.proc.pid)), samples + 1
            if server.proc.poll() is not None:
                return Startup(None, round(peak / MIB, 1), samples, f"exited (code {server.proc.returncode})")
            if answers(f"http://127.0.0.1:{port}/ready", timeout=1):
                return Startup(round(time.monotonic() - t0, 2), round(peak / MIB, 1), samples)
            time.sleep(0.1)
        return Startup(None, round(peak / MIB, 1), samples, f"not ready after {settings.ready_timeout_s:g} s")
    finally:
        server.stop()
