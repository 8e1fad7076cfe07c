"""Unit-test fixtures: a contract pipeline trained here on palmerpenguins, folded, served without MLflow."""

from __future__ import annotations

import asyncio
import sys
import time

# --import-mode=importlib names this file "fastapi.tests.conftest" and, unless the real FastAPI was imported
# first, registers the folder /work/main/fastapi as a namespace module "fastapi" that shadows the library.
# Swap the real library back in (the root conftest importing fastapi first would make this a no-op).
if not hasattr(sys.modules.get("fastapi"), "FastAPI"):
    _shadow = sys.modules.pop("fastapi")
    import fastapi as _real_fastapi

    _real_fastapi.tests = sys.modules.get("fastapi.tests")  # keep pytest's own module tree importable

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from palmerpenguins import load_penguins
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from inference.features import FEATURES, ISLANDS, NUMERIC_FEATURES, SEXES
from inference.main import create_app
from inference.model import ServedModel, fold_pipeline
from inference.settings import Settings


def _penguins() -> tuple[pd.DataFrame, pd.Series]:
    frame = load_penguins().dropna(subset=[*FEATURES, "species"]).reset_index(drop=True)
    X = frame[list(FEATURES)].astype({name: "float64" for name in NUMERIC_FEATURES})
    return X, frame["species"]


def _contract_pipeline(c: float = 1.0) -> Pipeline:
    """Exactly the pipeline the team contract describes."""
    preprocess = ColumnTransformer([
        ("categorical", OneHotEncoder(categories=[list(ISLANDS), list(SEXES)], handle_unknown="error"),
         ["island", "sex"]),
        ("numeric", StandardScaler(), list(NUMERIC_FEATURES)),
    ])
    return Pipeline([("preprocess", preprocess), ("classifier", LogisticRegression(max_iter=1000, C=c))])


def _make_served(predictor, version: str = "1") -> ServedModel:
    return ServedModel(predictor=predictor, name="penguins-classifier", version=version, alias="production",
                       run_id=f"run{version}", metrics={"accuracy": 0.99}, loaded_at="2025-01-01T00:00:00+00:00")


def _settings(**overrides) -> Settings:
    base = {"mlflow_tracking_uri": "http://127.0.0.1:9", "model_reload_interval_s": 3600,
            "model_load_timeout_s": 5, "max_batch": 50, "max_body_bytes": 65536}
    return Settings(**{**base, **overrides})


def _served_app(served_model: ServedModel, **overrides):
    async def load(_: Settings) -> ServedModel:
        return served_model

    return create_app(_settings(**overrides), load=load)


def _never_loading_app(reason: str = "mlflow unreachable"):
    async def load(_: Settings) -> ServedModel:
        await asyncio.sleep(0)
        raise ConnectionError(reason)

    return create_app(_settings(model_load_timeout_s=60), load=load)


def _wait_ready(client: TestClient) -> None:
    for _ in range(300):
        if client.get("/ready").status_code == 200:
            return
        time.sleep(0.01)
    raise AssertionError("app never became ready")


class Kit:
    """Helpers for tests (conftest modules are not importable by name under --import-mode=importlib)."""

    contract_pipeline = staticmethod(_contract_pipeline)
    make_served = staticmethod(_make_served)
    settings = staticmethod(_settings)
    served_app = staticmethod(_served_app)
    never_loading_app = staticmethod(_never_loading_app)
    wait_ready = staticmethod(_wait_ready)


@pytest.fixture(scope="session")
def kit() -> type[Kit]:
    return Kit


@pytest.fixture(scope="session")
def dataset() -> tuple[pd.DataFrame, pd.Series]:
    return _penguins()


@pytest.fixture(scope="session")
def pipeline(dataset) -> Pipeline:
    X, y = dataset
    return _contract_pipeline().fit(X, y)


@pytest.fixture(scope="session")
def arrays(dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, _ = dataset
    return (X[list(NUMERIC_FEATURES)].to_numpy(), X["island"].map(ISLANDS.index).to_numpy(),
            X["sex"].map(SEXES.index).to_numpy())


@pytest.fixture(scope="session")
def served(pipeline) -> ServedModel:
    return _make_served(fold_pipeline(pipeline))


@pytest.fixture
def client(served):
    with TestClient(_served_app(served)) as test_client:
        _wait_ready(test_client)
        yield test_client
