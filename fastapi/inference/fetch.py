"""Load the registered model in a short-lived child process and hand back only the folded arrays.

`python -m inference.fetch OUT [--resolve-only]` resolves MODEL_NAME@MODEL_ALIAS with MlflowClient, loads that
version with mlflow.sklearn.load_model, folds it, checks the fold against predict_proba and writes a msgpack
document to OUT. mlflow, sklearn, scipy and pandas (~200 MB, ~5 s of imports) live and die in this child, so the
serving process stays small. Exit 0 = written; anything else = failed (reason on stderr).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from .features import FEATURES, ISLANDS, NUMERIC_FEATURES, SEXES
from .model import FoldedLinear, NotFoldable, fold_pipeline
from .settings import Settings

log = logging.getLogger("inference.fetch")
PARITY_TOLERANCE = 1e-9


def probe_frame() -> Any:
    """Every island x sex combination at a spread of plausible and edge measurements."""
    import pandas as pd

    numeric = np.array([[39.1, 18.7, 181.0, 3750.0, 2007.0], [46.5, 17.9, 192.0, 3500.0, 2008.0],
                        [50.0, 15.2, 218.0, 5700.0, 2009.0], [0.1, 0.1, 0.1, 0.1, 1900.0],
                        [200.0, 100.0, 500.0, 20000.0, 2100.0]])
    rows = [(*x, island, sex) for x in numeric for island in ISLANDS for sex in SEXES]
    frame = pd.DataFrame(rows, columns=list(FEATURES))
    return frame.astype({name: "float64" for name in NUMERIC_FEATURES})


def verify(folded: FoldedLinear, estimator: Any) -> float:
    """Max |folded - estimator.predict_proba| over the probe rows; NotFoldable above tolerance."""
    frame = probe_frame()
    island = frame["island"].map(ISLANDS.index).to_numpy()
    sex = frame["sex"].map(SEXES.index).to_numpy()
    ours = folded.predict_proba(frame[list(NUMERIC_FEATURES)].to_numpy(), island, sex)
    theirs = np.asarray(estimator.predict_proba(frame), dtype=np.float64)
    error = float(np.max(np.abs(ours - theirs)))
    if not error <= PARITY_TOLERANCE:
        raise NotFoldable(f"folded model differs from predict_proba by {error:.3g}")
    return error


def fetch(settings: Settings, resolve_only: bool) -> dict[str, Any]:
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    client = MlflowClient(settings.mlflow_tracking_uri)
    version = client.get_model_version_by_alias(settings.model_name, settings.model_alias)
    result: dict[str, Any] = {"version": str(version.version), "run_id": version.run_id}
    if resolve_only:
        return result
    estimator = mlflow.sklearn.load_model(f"models:/{settings.model_name}/{version.version}")
    result["metrics"] = dict(client.get_run(version.run_id).data.metrics) if version.run_id else {}
    try:
        folded = fold_pipeline(estimator)
        result["parity_error"] = verify(folded, estimator)
        result["folded"] = folded.to_dict()
    except NotFoldable as exc:
        result["not_foldable"] = str(exc)
    return result


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="level=%(levelname)s %(message)s")
    if len(argv) < 2:
        print("usage: python -m inference.fetch OUT [--resolve-only]", file=sys.stderr)
        return 2
    result = fetch(Settings(), resolve_only="--resolve-only" in argv[2:])
    Path(argv[1]).write_bytes(msgspec.msgpack.encode(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
