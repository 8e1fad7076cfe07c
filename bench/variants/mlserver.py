"""MLServer with its MLflow runtime (mlserver-mlflow), in its own virtualenv, on the registered model version.

As MLServer documents it: a model folder with `model-settings.json` (implementation
`mlserver_mlflow.MLflowRuntime`, `parameters.uri` = the model URI) and `mlserver start <folder>`, server settings
from MLSERVER_* variables. One inference worker (`parallel_workers`, its default 1), all its processes on the
server core. Three variants: the V2 inference protocol with adaptive batching off (its default) and on
(`max_batch_size`, `max_batch_time`), and MLflow's own `/invocations` route that the runtime also serves.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench import venvs
from bench.payload import mlflow_body, v2_body
from bench.variants import ModelRef, Variant, mlflow_species

MODEL = "penguins"
MAX_BATCH_SIZE = 64  # the benchmark's 64 connections fit in one batch
MAX_BATCH_TIME_S = 0.005  # wait at most 5 ms for a batch to fill


def v2_species(data: object) -> str | None:
    outputs = data.get("outputs") if isinstance(data, dict) else None
    if not isinstance(outputs, list) or len(outputs) != 1:
        return None
    values = outputs[0].get("data")
    return values[0] if isinstance(values, list) and len(values) == 1 else None


def _model_settings(model: ModelRef, batching: bool) -> dict:
    settings = {"name": MODEL, "implementation": "mlserver_mlflow.MLflowRuntime", "parameters": {"uri": model.uri}}
    if batching:
        settings |= {"max_batch_size": MAX_BATCH_SIZE, "max_batch_time": MAX_BATCH_TIME_S}
    return settings


def _variant(model: ModelRef, workdir: Path, key: str, label: str, batching: bool, invocations: bool) -> Variant:
    folder = workdir / key
    bin_dir = venvs.path_of("mlserver") / "bin"

    def prepare() -> None:
        venvs.ensure("mlserver", workdir / "venv-mlserver.log")
        (folder / MODEL).mkdir(parents=True, exist_ok=True)
        (folder / MODEL / "model-settings.json").write_text(json.dumps(_model_settings(model, batching), indent=2))

    def command(port: int) -> list[str]:
        from labtools import free_port

        ports = [f"MLSERVER_HTTP_PORT={port}", f"MLSERVER_GRPC_PORT={free_port()}",
                 f"MLSERVER_METRICS_PORT={free_port()}"]
        return ["env", *ports, str(bin_dir / "mlserver"), "start", str(folder)]

    batch = (f"adaptive batching on (max_batch_size {MAX_BATCH_SIZE}, max_batch_time {MAX_BATCH_TIME_S * 1000:.0f} ms)"
             if batching else "adaptive batching off (default)")
    env = {**model.env(), "MLSERVER_HOST": "127.0.0.1", "MLSERVER_PARALLEL_WORKERS": "1", "MLSERVER_DEBUG": "false",
           "MLSERVER_METRICS_DIR": str(folder / ".metrics"), "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"}
    if invocations:
        return Variant(key, label, command, f"/v2/models/{MODEL}/ready", "/invocations", mlflow_body,
                       mlflow_species, env=env, cwd=workdir, prepare=prepare, notes=f"/invocations, {batch}")
    return Variant(key, label, command, f"/v2/models/{MODEL}/ready", f"/v2/models/{MODEL}/infer", v2_body,
                   v2_species, env=env, cwd=workdir, prepare=prepare, notes=f"V2 protocol, {batch}")


def variants(model: ModelRef, workdir: Path) -> list[Variant]:
    return [
        _variant(model, workdir, "mlserver", "MLServer (V2 infer)", batching=False, invocations=False),
        _variant(model, workdir, "mlserver-batch", "MLServer (V2 infer, adaptive batching)", True, False),
        _variant(model, workdir, "mlserver-invocations", "MLServer (/invocations)", False, True),
    ]
