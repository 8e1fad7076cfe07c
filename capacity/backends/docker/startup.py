"""The docker backend's start-up: `docker compose up -d --no-deps --force-recreate api lb` with the configuration's
knobs, /ready polled through the lb once it returns; `docker stats` of the api containers sampled meanwhile (every
~1-2 s), and once ready, each container's cgroup high-water mark (the exact peak, which the samples can miss)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time

from capacity.backends.startup import MIB, Startup
from capacity.core.cells import Cell
from capacity.core.docker import docker, parse_size
from capacity.core.grid import Lb
from capacity.core.settings import Settings
from labtools import answers


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
