"""Session fixtures shared by every test folder: real servers on loopback ports, started once, stopped by PID."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import realservers
from labtools import QUIET_ENV

ROOT = Path(__file__).resolve().parent
MODEL_NAME, MODEL_ALIAS = "penguins-classifier", "production"

for _key, _value in QUIET_ENV.items():
    os.environ.setdefault(_key, _value)


@dataclass(frozen=True)
class TrainedModel:
    tracking_uri: str
    name: str
    alias: str
    version: str
    output: str


@pytest.fixture(scope="session")
def postgres():
    server = realservers.start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres) -> str:
    return postgres.url


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    server = realservers.start_s3(tmp_path_factory.mktemp("s3"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory, postgres, s3_server):
    server = realservers.start_mlflow(tmp_path_factory.mktemp("mlflow"), postgres, s3_server)
    yield server
    server.stop()


def run_trainer(tracking_uri: str, **env: str) -> subprocess.CompletedProcess:
    """The real trainer as its image runs it: `python -m trainer`, configured by environment only."""
    full_env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "MODEL_NAME": MODEL_NAME,
                "MODEL_ALIAS": MODEL_ALIAS, "PYTHONPATH": str(ROOT / "ml-training"), **env}
    return subprocess.run([sys.executable, "-m", "trainer"], env=full_env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT / "ml-training")


@pytest.fixture(scope="session")
def trained_model(mlflow_server) -> TrainedModel:
    result = run_trainer(mlflow_server.tracking_uri)
    assert result.returncode == 0, f"trainer failed:\n{result.stdout}\n{result.stderr}"
    from mlflow import MlflowClient

    version = MlflowClient(mlflow_server.tracking_uri).get_model_version_by_alias(MODEL_NAME, MODEL_ALIAS)
    return TrainedModel(mlflow_server.tracking_uri, MODEL_NAME, MODEL_ALIAS, version.version,
                        result.stdout + result.stderr)


@pytest.fixture(scope="session")
def api_server(tmp_path_factory, trained_model):
    server = realservers.start_api(tmp_path_factory.mktemp("api"), trained_model.tracking_uri,
                                   env={"MODEL_NAME": MODEL_NAME, "MODEL_ALIAS": MODEL_ALIAS})
    yield server
    server.stop()
