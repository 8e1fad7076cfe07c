"""The real API process (`python -m inference`, its production configuration) on a loopback port."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .process import Managed, free_port, spawn, wait_http

FASTAPI_DIR = Path(__file__).resolve().parents[2] / "fastapi"


@dataclass
class ApiServer:
    managed: Managed
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.managed.pid

    def stop(self) -> None:
        self.managed.stop()


def start_api(workdir: Path, tracking_uri: str, env: dict | None = None, wait_ready: bool = True,
              timeout: float = 60) -> ApiServer:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {"MLFLOW_TRACKING_URI": tracking_uri, "API_HOST": "127.0.0.1", "API_PORT": str(port),
                "PYTHONPATH": str(FASTAPI_DIR), **(env or {})}
    managed = spawn([sys.executable, "-m", "inference"], workdir / f"api-{port}.log", env=full_env,
                    cwd=FASTAPI_DIR)
    server = ApiServer(managed, port)
    try:
        wait_http(f"{server.base_url}/ready" if wait_ready else f"{server.base_url}/health",
                  timeout=timeout, proc=managed.proc)
    except Exception as exc:
        managed.stop()
        raise RuntimeError(f"API did not become ready: {exc}\n{managed.log_tail()}") from exc
    return server
