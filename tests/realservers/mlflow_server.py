"""A real `mlflow server`, configured as in docker-compose.yaml: PostgreSQL backend, artifacts proxied to S3."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from labtools import Managed, free_port, start_server

from .postgres import Postgres
from .s3 import S3Server


@dataclass
class MlflowServer(Managed):
    @property
    def tracking_uri(self) -> str:
        return self.base_url


def start_mlflow(workdir: Path, postgres: Postgres, s3: S3Server, timeout: float = 120) -> MlflowServer:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [
        str(Path(sys.executable).parent / "mlflow"), "server",
        "--backend-store-uri", postgres.url,
        "--artifacts-destination", f"s3://{s3.bucket}/", "--serve-artifacts",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--allowed-hosts", f"127.0.0.1:{port},localhost:{port}",
    ]
    env = {
        "MLFLOW_S3_ENDPOINT_URL": s3.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    # A real API call, not just /health: a wrong --allowed-hosts answers 403 here while /health stays 200.
    managed = start_server(cmd, workdir / "mlflow.log", port, "/api/2.0/mlflow/experiments/get-by-name?"
                           "experiment_name=Default", "mlflow server", env=env, timeout=timeout)
    return MlflowServer(managed.proc, managed.log_path, managed.port)
