"""Real servers for tests: PostgreSQL, an S3 server (SeaweedFS), `mlflow server` and the API, on loopback ports.

Each starter returns a handle with the PID of what it started; `stop()` ends exactly that process group.
A server that cannot start raises: in CI nothing is skipped.
"""

from .api import ApiServer, start_api
from .mlflow_server import MlflowServer, start_mlflow
from .postgres import Postgres, start_postgres
from .s3 import S3Server, start_s3

__all__ = [
    "ApiServer",
    "MlflowServer",
    "Postgres",
    "S3Server",
    "start_api",
    "start_mlflow",
    "start_postgres",
    "start_s3",
]
