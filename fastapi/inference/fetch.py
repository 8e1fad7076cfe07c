"""Step 1 of a model load, in a short-lived child: `python -m inference.fetch OUT [DIR | --resolve-only]`.

With the MLflow client only: resolve MODEL_NAME@MODEL_ALIAS, read the run's metrics, download the model version
into DIR (`mlflow.artifacts.download_artifacts`) and describe its sklearn flavor; write a msgpack document to
OUT. pandas, scipy, pyarrow and scikit-learn are kept out (see isolate.py): this child stays near 95 MB and never
overlaps with step 2 (inference.foldcheck), which loads the estimator without mlflow.
Exit 0 = written; anything else = failed (reason on stderr).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from .artifact import describe
from .isolate import child_main
from .settings import Settings

log = logging.getLogger("inference.fetch")
KEPT_OUT = ("pandas", "pyarrow", "scipy", "sklearn")


def sklearn_flavor(model_dir: Path) -> dict[str, Any]:
    import yaml

    flavors = yaml.safe_load((model_dir / "MLmodel").read_text()).get("flavors") or {}
    if "sklearn" not in flavors:
        raise ValueError(f"model has no sklearn flavor (flavors: {sorted(flavors)})")
    return flavors["sklearn"]


def check_deserialization_allowed() -> None:
    """The gate mlflow.sklearn.load_model applies before deserializing any format (skops included)."""
    from mlflow.environment_variables import MLFLOW_ALLOW_PICKLE_DESERIALIZATION

    if not MLFLOW_ALLOW_PICKLE_DESERIALIZATION.get():
        raise PermissionError("deserializing the model is disallowed: MLFLOW_ALLOW_PICKLE_DESERIALIZATION is not "
                              "'true' (loading a model can execute code from the artifact)")


def fetch(settings: Settings, dest: Path | None) -> dict[str, Any]:
    import mlflow.artifacts
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    client = MlflowClient(settings.mlflow_tracking_uri)
    version = client.get_model_version_by_alias(settings.model_name, settings.model_alias)
    result: dict[str, Any] = {"version": str(version.version), "run_id": version.run_id}
    if dest is None:
        return result
    check_deserialization_allowed()
    result["metrics"] = dict(client.get_run(version.run_id).data.metrics) if version.run_id else {}
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=f"models:/{settings.model_name}/{version.version}", dst_path=str(dest))
    result["model"] = describe(Path(local), sklearn_flavor(Path(local))).to_dict()
    return result


def main(argv: list[str]) -> int:
    return child_main(argv, "python -m inference.fetch OUT (DIR | --resolve-only)", KEPT_OUT,
                      lambda arg: fetch(Settings(), None if arg == "--resolve-only" else Path(arg)))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
