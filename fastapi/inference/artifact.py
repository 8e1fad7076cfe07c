"""Read a downloaded MLflow sklearn model from a local folder without importing mlflow.

The same steps as `mlflow.sklearn.load_model` once the files are local (mlflow/sklearn/__init__.py,
`_load_model_from_local_file`): flavor configuration from the MLmodel file, optional code path, then skops
with the trusted types recorded at logging time, or (cloud)pickle for models logged in those formats.
"""

from __future__ import annotations

import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = ("skops", "pickle", "cloudpickle")


@dataclass(frozen=True)
class LocalModel:
    """Where and how the downloaded model folder's estimator is stored (msgpack-friendly)."""

    model_file: str
    serialization_format: str
    skops_trusted_types: list[str] | None = None
    code_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"model_file": self.model_file, "serialization_format": self.serialization_format,
                "skops_trusted_types": self.skops_trusted_types, "code_dir": self.code_dir}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LocalModel:
        return cls(**{key: data.get(key) for key in ("model_file", "serialization_format", "skops_trusted_types",
                                                       "code_dir")})


def describe(model_dir: Path, flavor: dict[str, Any]) -> LocalModel:
    """The sklearn flavor section of MLmodel -> where and how to load the estimator."""
    fmt = flavor.get("serialization_format", "pickle")
    if fmt not in FORMATS:
        raise ValueError(f"unrecognized serialization format {fmt!r}, expected one of {FORMATS}")
    code = flavor.get("code")
    return LocalModel(model_file=str(model_dir / flavor["pickled_model"]), serialization_format=fmt,
                      skops_trusted_types=flavor.get("skops_trusted_types"),
                      code_dir=str(model_dir / code) if code else None)


def load_estimator(model: LocalModel) -> Any:
    """Deserialize the estimator (imports scikit-learn; skops only allows its defaults + the trusted list)."""
    if model.code_dir and model.code_dir not in sys.path:
        sys.path.insert(0, model.code_dir)
    if model.serialization_format == "skops":
        import skops.io

        return skops.io.load(model.model_file, trusted=model.skops_trusted_types)
    with open(model.model_file, "rb") as f:
        if model.serialization_format == "cloudpickle":
            import cloudpickle

            return cloudpickle.load(f)
        return pickle.load(f)  # noqa: S301 - as mlflow.sklearn does, behind MLFLOW_ALLOW_PICKLE_DESERIALIZATION
