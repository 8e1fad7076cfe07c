"""Processes we start in their own session (so stopping one ends its children too), on free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from labtools.http import wait_http

# MLflow and others phone home by default; nothing we start may.
QUIET_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(plus: int = 0) -> int:
    """A loopback port nobody listens on; with `plus`, port + plus is free too (SeaweedFS's gRPC port is +10000)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not plus or (port + plus < 65536 and _is_free(port + plus)):
            return port
    raise RuntimeError(f"no free loopback port with a free +{plus} twin found")


def stop_group(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """End the process group of a process we started in its own session: SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass
class Managed:
    """A process we started in its own session, its log file, and the loopback port it serves on (0: none)."""

    proc: subprocess.Popen
    log_path: Path
    port: int = 0

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> None:
        stop_group(self.proc, timeout)


def spawn(cmd: list[str], log_path: Path, env: dict | None = None, cwd: Path | None = None,
          port: int = 0) -> Managed:
    """Start `cmd` in a new session with telemetry off, its output appended to `log_path`."""
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True,
                                env={**os.environ, **QUIET_ENV, **(env or {})})
    return Managed(proc, log_path, port)


def start_server(cmd: list[str], log_path: Path, port: int, ready_path: str, what: str, *, env: dict | None = None,
                 cwd: Path | None = None, timeout: float = 60.0, **wait) -> Managed:
    """`spawn` a server on `port` and wait for `ready_path` to answer (`wait`: wait_http's ok, interval, times);
    when it does not, stop it and raise RuntimeError with the end of its log."""
    managed = spawn(cmd, log_path, env=env, cwd=cwd, port=port)
    try:
        wait_http(f"{managed.base_url}{ready_path}", timeout, managed.proc, **wait)
    except Exception as exc:
        managed.stop()
        raise RuntimeError(f"{what} did not become ready: {exc}\n{managed.log_tail()}") from exc
    return managed
