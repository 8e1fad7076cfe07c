"""The BentoML service of the benchmark (runs in its own virtualenv, bench/peers/bentoml.lock).

The registered MLflow model is imported once into the BentoML model store as `penguins`
(`bentoml.mlflow.import_model`, done by bench/variants/bento.py) and loaded back with `bentoml.mlflow.load_model`,
as BentoML's MLflow guide does. One worker. Two services, the same but for adaptive batching:

    bentoml serve bento_service:Penguins --host 127.0.0.1 --port 3000         # batching off (the default)
    bentoml serve bento_service:PenguinsBatched --host 127.0.0.1 --port 3000  # batchable=True

Request: POST /predict {"rows": [{"bill_length_mm": 39.1, ...}]} -> ["Adelie"].
"""

from __future__ import annotations

import bentoml
import pandas as pd
from pydantic import BaseModel

MODEL_TAG = "penguins:latest"
MAX_BATCH_SIZE = 64  # the benchmark's 64 connections fit in one batch
MAX_LATENCY_MS = 1000  # BentoML's latency budget for a batch (default 60000)


class Penguin(BaseModel):
    """The logged signature's columns; numbers as float (it says double: an int column fails its check)."""

    bill_length_mm: float
    bill_depth_mm: float
    flipper_length_mm: float
    body_mass_g: float
    year: float
    island: str
    sex: str


def _predict(model, rows: list[Penguin]) -> list[str]:
    return [str(species) for species in model.predict(pd.DataFrame([row.model_dump() for row in rows]))]


@bentoml.service(workers=1)
class Penguins:
    bento_model = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self) -> None:
        self.model = bentoml.mlflow.load_model(self.bento_model)

    @bentoml.api
    def predict(self, rows: list[Penguin]) -> list[str]:
        return _predict(self.model, rows)


@bentoml.service(workers=1)
class PenguinsBatched:
    bento_model = bentoml.models.BentoModel(MODEL_TAG)

    def __init__(self) -> None:
        self.model = bentoml.mlflow.load_model(self.bento_model)

    @bentoml.api(batchable=True, max_batch_size=MAX_BATCH_SIZE, max_latency_ms=MAX_LATENCY_MS)
    def predict(self, rows: list[Penguin]) -> list[str]:
        return _predict(self.model, rows)
