"""The four servers under test: how to start each one, where it is ready, what it is sent and must answer."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.payload import SPECIES, mlflow_body, natural_body

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
UVICORN_STACK = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--workers", "1"]


@dataclass(frozen=True)
class ModelRef:
    tracking_uri: str
    name: str
    alias: str

    def env(self) -> dict[str, str]:
        return {"MLFLOW_TRACKING_URI": self.tracking_uri, "MODEL_NAME": self.name, "MODEL_ALIAS": self.alias}


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    command: Callable[[int], list[str]]
    ready_path: str
    predict_path: str
    body: bytes
    answer_ok: Callable[[object], bool]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT


def _species_ok(data: object) -> bool:
    return isinstance(data, dict) and data.get("species") == SPECIES


def _mlflow_ok(data: object) -> bool:
    return isinstance(data, dict) and data.get("predictions") == [SPECIES]


def _uvicorn(app: str) -> Callable[[int], list[str]]:
    return lambda port: [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                         *UVICORN_STACK]


def ours(model: ModelRef) -> Variant:
    """Our API exactly as its image runs it: `python -m inference`, configured by environment only."""
    fastapi_dir = ROOT / "fastapi"
    return Variant(
        "ours", "our API", lambda port: [sys.executable, "-m", "inference"], "/ready", "/predict",
        natural_body(), _species_ok, cwd=fastapi_dir,
        env={**model.env(), "PYTHONPATH": str(fastapi_dir), "API_HOST": "127.0.0.1", "WEB_CONCURRENCY": "1"},
    )


def mlflow_serve(model: ModelRef) -> Variant:
    """`mlflow models serve --env-manager local` on the registered model (it execs `uvicorn` from PATH)."""
    def command(port: int) -> list[str]:
        return [str(VENV_BIN / "mlflow"), "models", "serve", "-m", f"models:/{model.name}@{model.alias}",
                "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]

    return Variant("mlflow-serve", "mlflow models serve", command, "/ping", "/invocations", mlflow_body(),
                   _mlflow_ok, env={**model.env(), "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin"})


def usual(model: ModelRef) -> Variant:
    return Variant("usual", "usual handler (pandas + pyfunc)", _uvicorn("bench.variants.usual:app"), "/ready",
                   "/predict", natural_body(), _species_ok, env={**model.env(), "PYTHONPATH": str(ROOT)})


def ceiling(model: ModelRef) -> Variant:
    return Variant("ceiling", "bare ASGI ceiling", _uvicorn("bench.variants.ceiling:app"), "/ready", "/predict",
                   natural_body(), lambda data: isinstance(data, dict), env={"PYTHONPATH": str(ROOT)})


def all_variants(model: ModelRef) -> list[Variant]:
    return [ours(model), mlflow_serve(model), usual(model), ceiling(model)]
