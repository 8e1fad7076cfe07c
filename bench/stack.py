"""What the benchmark needs underneath: the test suite's real servers (PostgreSQL, S3, mlflow) and the trainer."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import realservers
from bench.variants import ROOT, ModelRef
from labtools import QUIET_ENV


def start_stack(stack: ExitStack, workdir: Path, name: str, alias: str) -> ModelRef:
    """PostgreSQL + S3 + `mlflow server`, stopped by `stack`; then the real trainer registers the model."""
    postgres = realservers.start_postgres()
    stack.callback(postgres.stop)
    s3 = realservers.start_s3(workdir / "s3")
    stack.callback(s3.stop)
    mlflow = realservers.start_mlflow(workdir / "mlflow", postgres, s3)
    stack.callback(mlflow.stop)
    model = ModelRef(mlflow.tracking_uri, name, alias)
    train(model, workdir / "trainer.log")
    return model


def train(model: ModelRef, log_path: Path) -> None:
    """`python -m trainer` as its image runs it, configured by environment only (as the root conftest does)."""
    env = {**os.environ, **QUIET_ENV, **model.env(), "PYTHONPATH": str(ROOT / "ml-training")}
    result = subprocess.run([sys.executable, "-m", "trainer"], env=env, capture_output=True, text=True,
                            timeout=300, cwd=ROOT / "ml-training")
    log_path.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"trainer failed (exit {result.returncode}), see {log_path}:\n{result.stderr[-2000:]}")


def resolve(model: ModelRef) -> ModelRef:
    """The version the alias points to now: every variant of the run is given (or checked against) this one."""
    from mlflow import MlflowClient  # the project venv's mlflow, only when a run starts

    version = MlflowClient(model.tracking_uri).get_model_version_by_alias(model.name, model.alias).version
    return replace(model, version=str(version))
