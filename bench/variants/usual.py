"""The usual FastAPI handler, as most tutorials and the original course write it (variant 3).

A pydantic model, a one-row pandas DataFrame and `mlflow.pyfunc` `predict` on every request. Run under the same
uvicorn stack as our API (uvloop, httptools, no access log, one worker), so the handler is the only difference:

    MLFLOW_TRACKING_URI=... python -m uvicorn bench.variants.usual:app --loop uvloop --http httptools ...
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Literal

import mlflow.pyfunc
import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True, protected_namespaces=())

    mlflow_tracking_uri: str = "http://localhost:5000"
    model_name: str = "penguins-classifier"
    model_alias: str = "production"


class Penguin(BaseModel):
    bill_length_mm: float
    bill_depth_mm: float
    flipper_length_mm: float
    body_mass_g: float
    year: float  # the logged signature says double: an int column fails schema enforcement
    island: Literal["Biscoe", "Dream", "Torgersen"]
    sex: Literal["female", "male"]


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings = Settings()
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    app.state.model = mlflow.pyfunc.load_model(f"models:/{settings.model_name}@{settings.model_alias}")
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/ready")
def ready() -> dict:
    return {"status": "ready"}


@app.post("/predict")
def predict(penguin: Penguin) -> dict:
    frame = pd.DataFrame([penguin.model_dump()])
    species = app.state.model.predict(frame)[0]
    return {"species": str(species)}
