"""The docker CLI as the backends and generators call it, the generators' compose projects, and docker's sizes."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

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


def docker(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def compose(file: Path, *args: str, env: dict | None = None, timeout: float = 120,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`docker compose -f FILE ARGS` with the environment's variables plus `env`, output captured."""
    return subprocess.run(["docker", "compose", "-f", str(file), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, cwd=cwd)
