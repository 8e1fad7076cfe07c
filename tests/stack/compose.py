"""Drive the real `docker compose` of the project from tests: bounded commands, their output kept for failures."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ComposeError(RuntimeError):
    pass


@dataclass
class Compose:
    """`docker compose` with a fixed environment (ports, knobs) for one test session."""

    env: dict[str, str]
    files: tuple[str, ...] = ("docker-compose.yaml",)
    history: list[str] = field(default_factory=list)

    def run(self, *args: str, timeout: float = 600, check: bool = True, env: dict | None = None,
            files: tuple[str, ...] | None = None) -> subprocess.CompletedProcess:
        cmd = ["docker", "compose"]
        for f in files or self.files:
            cmd += ["-f", f]
        cmd += list(args)
        full_env = {**os.environ, **self.env, **(env or {})}
        self.history.append(" ".join(cmd))
        result = subprocess.run(cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise ComposeError(f"{' '.join(cmd)} -> {result.returncode}\n{result.stdout[-3000:]}\n"
                               f"{result.stderr[-3000:]}")
        return result

    def ps(self, service: str | None = None, all_: bool = True) -> list[dict]:
        args = ["ps", "--format", "json"] + (["-a"] if all_ else []) + ([service] if service else [])
        out = self.run(*args).stdout.strip()
        if not out:
            return []
        if out.startswith("["):
            return json.loads(out)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def container_ids(self, service: str) -> list[str]:
        return [c for c in self.run("ps", "-q", service).stdout.split() if c]

    def exit_code(self, service: str) -> int | None:
        rows = self.ps(service)
        return rows[0].get("ExitCode") if rows else None

    def logs(self, *services: str, tail: int = 80) -> str:
        return self.run("logs", "--no-color", "--tail", str(tail), *services, check=False, timeout=60).stdout


def inspect(container: str, fmt: str) -> str:
    return subprocess.run(["docker", "inspect", "-f", fmt, container], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()


def http(url: str, body: dict | None = None, timeout: float = 10) -> tuple[int, dict | str]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read().decode()
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read().decode(errors="replace"), exc.code
    except OSError as exc:
        return 0, str(exc)
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def wait_until(predicate, timeout: float, what: str, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"{what}: not reached in {timeout:.0f}s (last: {last!r})")
