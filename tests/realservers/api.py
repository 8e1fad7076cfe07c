"""The real API process (`python -m inference`, its production configuration) on a loopback port."""

from __future__ import annotations

import sys
from pathlib import Path

from labtools import Managed, free_port, start_server

FASTAPI_DIR = Path(__file__).resolve().parents[2] / "fastapi"
ApiServer = Managed  # base_url, pid, stop()


def start_api(workdir: Path, tracking_uri: str, env: dict | None = None, wait_ready: bool = True,
              timeout: float = 60) -> ApiServer:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {"MLFLOW_TRACKING_URI": tracking_uri, "API_HOST": "127.0.0.1", "API_PORT": str(port),
                "PYTHONPATH": str(FASTAPI_DIR), **(env or {})}
    return start_server([sys.executable, "-m", "inference"], workdir / f"api-{port}.log", port,
                        "/ready" if wait_ready else "/health", "API", env=full_env, cwd=FASTAPI_DIR, timeout=timeout)
