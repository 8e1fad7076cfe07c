"""The servers under test: how to start each one, where it is ready, what it is sent and how to read its answer."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.payload import ROW, mlflow_body, natural_body

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
UVICORN_STACK = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--workers", "1"]


@dataclass(frozen=True)
class ModelRef:
    tracking_uri: str
    name: str
    alias: str
    version: str | None = None  # the version the alias pointed to when the run started (bench.stack.resolve)

    def env(self) -> dict[str, str]:
        return {"MLFLOW_TRACKING_URI": self.tracking_uri, "MODEL_NAME": self.name, "MODEL_ALIAS": self.alias}

    @property
    def uri(self) -> str:
        """The model URI the peers load: the resolved version, so every server serves the same one."""
        return f"models:/{self.name}/{self.version}" if self.version else f"models:/{self.name}@{self.alias}"


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    command: Callable[[int], list[str]]
    ready_path: str
    predict_path: str
    encode: Callable[[dict], bytes]  # one row -> the request body this server documents
    species: Callable[[object], str | None]  # its JSON answer -> the predicted species (None: no model)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    prepare: Callable[[], None] | None = None  # one-off set-up before the start (virtualenv, model import)
    notes: str = ""  # how it was configured, for the report

    @property
    def body(self) -> bytes:
        """What the load generator sends: the benchmark row."""
        return self.encode(ROW)


def natural_species(data: object) -> str | None:
    return data.get("species") if isinstance(data, dict) else None


def mlflow_species(data: object) -> str | None:
    predictions = data.get("predictions") if isinstance(data, dict) else None
    return predictions[0] if isinstance(predictions, list) and len(predictions) == 1 else None


def no_model(data: object) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object: {data!r}")


def _uvicorn(app: str) -> Callable[[int], list[str]]:
    return lambda port: [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
                         *UVICORN_STACK]


def ours(model: ModelRef) -> Variant:
    """Our API exactly as its image runs it: `python -m inference`, configured by environment only."""
    fastapi_dir = ROOT / "fastapi"
    return Variant(
        "ours", "our API", lambda port: [sys.executable, "-m", "inference"], "/ready", "/predict",
        natural_body, natural_species, cwd=fastapi_dir,
        env={**model.env(), "PYTHONPATH": str(fastapi_dir), "API_HOST": "127.0.0.1", "WEB_CONCURRENCY": "1"},
    )


def mlflow_serve(model: ModelRef) -> Variant:
    """`mlflow models serve --env-manager local` on the registered model (it execs `uvicorn` from PATH)."""
    def command(port: int) -> list[str]:
        return [str(VENV_BIN / "mlflow"), "models", "serve", "-m", model.uri,
                "--env-manager", "local", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]

    return Variant("mlflow-serve", "mlflow models serve", command, "/ping", "/invocations", mlflow_body,
                   mlflow_species, env={**model.env(), "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin"})


def usual(model: ModelRef) -> Variant:
    return Variant("usual", "usual handler (pandas + pyfunc)", _uvicorn("bench.variants.usual:app"), "/ready",
                   "/predict", natural_body, natural_species, env={**model.env(), "PYTHONPATH": str(ROOT)})


def ceiling(model: ModelRef) -> Variant:
    return Variant("ceiling", "bare ASGI ceiling", _uvicorn("bench.variants.ceiling:app"), "/ready", "/predict",
                   natural_body, no_model, env={"PYTHONPATH": str(ROOT)})


def all_variants(model: ModelRef, workdir: Path) -> list[Variant]:
    """Ours first: its answers are the reference the others must match; the ceiling next to it in time."""
    from bench.variants import bento, mlserver  # they import this module

    return [ours(model), ceiling(model), mlflow_serve(model), usual(model), *mlserver.variants(model, workdir),
            *bento.variants(model, workdir)]
