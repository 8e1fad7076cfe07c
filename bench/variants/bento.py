"""BentoML on the registered model version, in its own virtualenv: the service in bench/peers/bento_service.py.

As BentoML's MLflow guide does it: `bentoml.mlflow.import_model` copies the registered version into a BentoML
model store (BENTOML_HOME, inside this run's work folder), the service loads it with `bentoml.mlflow.load_model`,
and `bentoml serve` runs it with one worker, all its processes on the server core. Two variants: adaptive
batching off (`@bentoml.api`, the default) and on (`@bentoml.api(batchable=True, ...)`).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench import venvs
from bench.payload import bento_body
from bench.variants import ModelRef, Variant
from labtools import QUIET_ENV

PEERS = Path(__file__).resolve().parents[1] / "peers"
IMPORT = "import sys, bentoml; print(bentoml.mlflow.import_model('penguins', sys.argv[1]).tag)"
QUIET = {**QUIET_ENV, "BENTOML_DO_NOT_TRACK": "true"}


def bento_species(data: object) -> str | None:
    return data[0] if isinstance(data, list) and len(data) == 1 else None


def import_model(bin_dir: Path, model: ModelRef, env: dict[str, str], log: Path) -> None:
    """Once per run: the registered version into this run's BentoML model store."""
    if Path(env["BENTOML_HOME"], "models", "penguins").exists():
        return
    result = subprocess.run([str(bin_dir / "python"), "-c", IMPORT, model.uri], env={**os.environ, **env},
                            capture_output=True, text=True, timeout=300)
    log.write_text(result.stdout + result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"bentoml.mlflow.import_model failed (exit {result.returncode}), see {log}")


def _variant(model: ModelRef, workdir: Path, key: str, label: str, service: str, notes: str) -> Variant:
    bin_dir = venvs.path_of("bentoml") / "bin"
    env = {**model.env(), **QUIET, "BENTOML_HOME": str(workdir / "bentoml-home"),
           "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"}

    def prepare() -> None:
        venvs.ensure("bentoml", workdir / "venv-bentoml.log")
        import_model(bin_dir, model, env, workdir / "bentoml-import.log")

    def command(port: int) -> list[str]:
        return [str(bin_dir / "bentoml"), "serve", f"bento_service:{service}", "--host", "127.0.0.1",
                "--port", str(port)]

    return Variant(key, label, command, "/readyz", "/predict", bento_body, bento_species, env=env, cwd=PEERS,
                   prepare=prepare, notes=notes)


def variants(model: ModelRef, workdir: Path) -> list[Variant]:
    return [
        _variant(model, workdir, "bentoml", "BentoML", "Penguins", "`@bentoml.api`, adaptive batching off (default)"),
        _variant(model, workdir, "bentoml-batch", "BentoML (adaptive batching)", "PenguinsBatched",
                 "`@bentoml.api(batchable=True, max_batch_size=64, max_latency_ms=1000)`"),
    ]
