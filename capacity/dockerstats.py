"""`docker stats` samples of the api replicas, the lb and the generator's containers, in a background thread."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

from labtools import CsvAppender

_SIZE = re.compile(r"^\s*([\d.]+)\s*([KMGT]?i?B)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
LOCUST_PROJECT = "capacity-lab-locust"  # docker-compose-locust.yaml's fixed `name:`
WRK_PROJECT = "capacity-lab-wrk"  # docker-compose-wrk.yaml's


def parse_size(text: str) -> int:
    """'41.8MiB' -> bytes; docker prints binary (MiB) and decimal (MB) units."""
    match = _SIZE.match(text)
    if not match:
        return 0
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "B").lower()])


def parse_stats_line(line: str, roles: dict[str, str], now: float) -> dict | None:
    """One `docker stats --format '{{json .}}'` line -> a resources.csv row (None for containers not ours)."""
    try:
        data = json.loads(line)
    except ValueError:
        return None
    cid = data.get("ID") or data.get("Container") or ""
    role = next((r for full, r in roles.items() if full.startswith(cid) or cid.startswith(full)), None)
    if not cid or role is None:
        return None
    used, _, limit = (data.get("MemUsage") or "0B / 0B").partition("/")
    return {"timestamp": now, "role": role, "name": data.get("Name", cid), "cpu_pct": _percent(data.get("CPUPerc")),
            "mem_bytes": parse_size(used), "mem_limit_bytes": parse_size(limit)}


def _percent(text: str | None) -> float:
    try:
        return float((text or "0").rstrip("%"))
    except ValueError:
        return 0.0


def docker(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def compose(file: Path, *args: str, env: dict | None = None, timeout: float = 120,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`docker compose -f FILE ARGS` with the environment's variables plus `env`, output captured."""
    return subprocess.run(["docker", "compose", "-f", str(file), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=cwd)


def generator_containers(project: str = LOCUST_PROJECT) -> list[str]:
    """The running containers of a generator's compose project (its fixed `name:`)."""
    result = docker("ps", "-q", "--no-trunc", "--filter", f"label=com.docker.compose.project={project}")
    return result.stdout.split()


class DockerSampler(threading.Thread):
    """Every `interval` s: one `docker stats --no-stream` over the api/lb containers and the generator's
    (found anew)."""

    def __init__(self, writer: CsvAppender, roles: dict[str, str], interval: float,
                 generator_project: str = LOCUST_PROJECT):
        super().__init__(name="capacity-docker-stats", daemon=True)
        self.writer, self.roles, self.interval = writer, dict(roles), interval
        self.generator_project = generator_project
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except (subprocess.SubprocessError, OSError):
                pass  # a missed sample is not worth a crashed sweep
            self._stop_event.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def tick(self) -> None:
        roles = {**self.roles, **{cid: "generator" for cid in generator_containers(self.generator_project)}}
        result = docker("stats", "--no-stream", "--format", "{{json .}}", *roles, timeout=30)
        now = round(time.time(), 3)
        rows = [row for line in result.stdout.splitlines() if (row := parse_stats_line(line, roles, now))]
        self.writer.write(rows)

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=40)
