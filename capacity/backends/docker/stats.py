"""`docker stats` samples of the api replicas, the lb and the generator's containers, in a background thread."""

from __future__ import annotations

import json
import subprocess
import time

from capacity.core.docker import LOCUST_PROJECT, docker, parse_size
from capacity.core.periodic import Periodic
from labtools import CsvAppender


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


def generator_containers(project: str = LOCUST_PROJECT) -> list[str]:
    """The running containers of a generator's compose project (its fixed `name:`)."""
    result = docker("ps", "-q", "--no-trunc", "--filter", f"label=com.docker.compose.project={project}")
    return result.stdout.split()


class DockerSampler(Periodic):
    """Every `interval` s: one `docker stats --no-stream` over the api/lb containers and the generator's
    (found anew)."""

    def __init__(self, writer: CsvAppender, roles: dict[str, str], interval: float,
                 generator_project: str = LOCUST_PROJECT):
        super().__init__("capacity-docker-stats", interval, join_timeout=40, paced=True)
        self.writer, self.roles = writer, dict(roles)
        self.generator_project = generator_project

    tolerated = (subprocess.SubprocessError, OSError)  # a missed sample is not worth a crashed sweep

    def tick(self) -> None:
        roles = {**self.roles, **{cid: "generator" for cid in generator_containers(self.generator_project)}}
        result = docker("stats", "--no-stream", "--format", "{{json .}}", *roles, timeout=30)
        now = round(time.time(), 3)
        rows = [row for line in result.stdout.splitlines() if (row := parse_stats_line(line, roles, now))]
        self.writer.write(rows)
