"""Start-up of one configuration: seconds from start to /ready, and the peak memory while the model loads.

This tells how fast an answer scales out (a new replica serves only after this long) and what memory the
loading needs on top of the serving peak (the model download and deserialisation can peak above it).
- native: one replica started as the native backend starts it (`python -m inference` pinned with taskset);
  RSS of its process tree sampled every 0.1 s until /ready answers 200;
- docker: `docker compose up -d --no-deps --force-recreate api lb` with the configuration's knobs, /ready polled
  through the lb once it returns; `docker stats` of the api containers sampled meanwhile (every ~1-2 s), and once
  ready, each container's cgroup high-water mark (the exact peak, which the samples can miss).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from capacity.core.cells import Cell
from capacity.core.docker import docker, parse_size
from capacity.core.grid import Lb
from capacity.core.provenance import ROOT
from capacity.core.settings import Settings
from labtools import answers, free_port, spawn, tree_rss_bytes

STARTUP_JSON = "startup.json"
MIB = 1024**2


@dataclass(frozen=True)
class Startup:
    ready_s: float | None  # None: never ready within the timeout
    peak_mem_mb: float | None
    samples: int
    error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


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


def _api_memory(compose: list[str]) -> int:
    ids = subprocess.run([*compose, "ps", "-q", "api"], capture_output=True, text=True, timeout=30).stdout.split()
    if not ids:
        return 0
    out = docker("stats", "--no-stream", "--format", "{{.MemUsage}}", *ids).stdout.splitlines()
    return max((parse_size(line.partition("/")[0]) for line in out), default=0)


# The cgroup's own high-water mark (v2 memory.peak, v1 max_usage_in_bytes, which counts page cache too: an
# over-estimate, on the safe side for sizing a limit). docker stats, sampled every ~1-2 s, missed the short-lived
# model-load child: 114 MiB sampled where the replica peaked near 190 MB, and a 160M limit never became healthy
# (find 2,000, 2026-11-30).
CGROUP_PEAK = "cat /sys/fs/cgroup/memory.peak 2>/dev/null || cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes"


def _api_cgroup_peak(compose: list[str]) -> int:
    ids = subprocess.run([*compose, "ps", "-q", "api"], capture_output=True, text=True, timeout=30).stdout.split()
    peaks = [docker("exec", cid, "sh", "-c", CGROUP_PEAK).stdout.strip() for cid in ids]
    return max((int(p) for p in peaks if p.isdigit()), default=0)


def docker_startup(cell: Cell, lb: Lb, settings: Settings) -> Startup:
    """`up` runs in the background (it waits for the api's healthcheck before it starts the lb) while the api
    containers' memory is sampled, so the model load is seen."""
    compose = ["docker", "compose", "-f", str(settings.compose_file)]
    url = f"http://{settings.host_bind}:{settings.api_port}/ready"
    t0 = time.monotonic()
    log = tempfile.TemporaryFile(mode="w+")  # compose's progress output: read only if it fails
    up = subprocess.Popen([*compose, "up", "-d", "--no-deps", "--force-recreate", "api", "lb"], text=True,
                          stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **cell.env(lb)})
    peak, samples = 0, 0
    try:
        while time.monotonic() - t0 < settings.ready_timeout_s:
            peak, samples = max(peak, _api_memory(compose)), samples + 1
            if up.poll() is not None and up.returncode != 0:
                log.seek(0)
                return Startup(None, None, samples, f"compose up failed: {log.read().strip()[-300:]}")
            if up.returncode == 0 and answers(url, timeout=1):
                ready_s = round(time.monotonic() - t0, 2)
                peak = max(peak, _api_cgroup_peak(compose))
                return Startup(ready_s, round(peak / MIB, 1) or None, samples)
        return Startup(None, round(peak / MIB, 1) or None, samples,
                       f"{url} not ready after {settings.ready_timeout_s:g} s")
    finally:
        if up.poll() is None:
            up.kill()
        up.wait()
        log.close()


def measure_startup(backend: str, cell: Cell, lb: Lb, settings: Settings, out_dir: Path) -> Startup:
    """Measure once and keep it in `out_dir/startup.json`; a resumed run reads it back."""
    path = out_dir / STARTUP_JSON
    if path.exists():
        return Startup(**json.loads(path.read_text()))
    out_dir.mkdir(parents=True, exist_ok=True)
    result = (native_startup(cell, settings, out_dir / "startup-api.log") if backend == "native"
              else docker_startup(cell, lb, settings))
    path.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    return result
