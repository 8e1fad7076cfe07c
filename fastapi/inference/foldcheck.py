"""The second half of a model load, in a short-lived child: `python -OO -m inference.foldcheck OUT MODEL_DOC`.

Load the estimator that the server downloaded (registry.py) with artifact.load_estimator (skops with the
trusted types recorded at logging time), fold it, check the fold against the estimator's own predict_proba and write
{"folded": ..., "parity_error": ...} or {"not_foldable": reason} as msgpack to OUT. The check feeds the pipeline
a numpy object array with columns selected by position (see `positional`), so pandas is never imported:
scikit-learn + skops alone peak near 130 MB.
Exit 0 = written; anything else = failed (reason on stderr).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from .artifact import LocalModel, load_estimator
from .features import ISLANDS, NUMERIC_FEATURES, SEXES
from .isolate import child_main
from .model import FoldedLinear, NotFoldable, by_position, fold_pipeline

PARITY_TOLERANCE = 1e-9
KEPT_OUT = ("mlflow", "pandas", "pyarrow", "pytest")
PROBE_NUMERIC = ((39.1, 18.7, 181.0, 3750.0, 2007.0), (46.5, 17.9, 192.0, 3500.0, 2008.0),
                 (50.0, 15.2, 218.0, 5700.0, 2009.0), (0.1, 0.1, 0.1, 0.1, 1900.0),
                 (200.0, 100.0, 500.0, 20000.0, 2100.0))


def probe_rows() -> list[dict[str, Any]]:
    """Every island x sex combination at a spread of plausible and edge measurements."""
    return [{**dict(zip(NUMERIC_FEATURES, x, strict=True)), "island": island, "sex": sex}
            for x in PROBE_NUMERIC for island in ISLANDS for sex in SEXES]


def positional(estimator: Any, rows: list[dict[str, Any]]) -> tuple[Any, np.ndarray]:
    """The pipeline selecting columns by position (model.by_position) and the rows as an array in its order."""
    pipeline, columns = by_position(estimator)
    return pipeline, np.array([[row[c] for c in columns] for row in rows], dtype=object)


def verify(folded: FoldedLinear, estimator: Any) -> float:
    """Max |folded - estimator.predict_proba| over the probe rows; NotFoldable above tolerance."""
    rows = probe_rows()
    x_num = np.array([[row[c] for c in NUMERIC_FEATURES] for row in rows], dtype=np.float64)
    island = np.array([ISLANDS.index(row["island"]) for row in rows])
    sex = np.array([SEXES.index(row["sex"]) for row in rows])
    ours = folded.predict_proba(x_num, island, sex)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="X does not have valid feature names")
            pipeline, x = positional(estimator, rows)
            theirs = np.asarray(pipeline.predict_proba(x), dtype=np.float64)
    except (ValueError, TypeError, KeyError) as exc:
        raise NotFoldable(f"predict_proba on the probe rows failed: {exc}") from exc
    error = float(np.max(np.abs(ours - theirs)))
    if not error <= PARITY_TOLERANCE:
        raise NotFoldable(f"folded model differs from predict_proba by {error:.3g}")
    return error


def load_and_fold(model: LocalModel) -> dict[str, Any]:
    try:
        estimator = load_estimator(model)
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in KEPT_OUT:
            raise
        return {"not_foldable": f"the model needs {exc.name}"}  # the server's fallback tries it in-process
    return fold_checked(estimator)


def fold_checked(estimator: Any) -> dict[str, Any]:
    try:
        folded = fold_pipeline(estimator)
        return {"parity_error": verify(folded, estimator), "folded": folded.to_dict()}
    except NotFoldable as exc:
        return {"not_foldable": str(exc)}


def main(argv: list[str]) -> int:
    return child_main(argv, "python -m inference.foldcheck OUT MODEL_DOC", KEPT_OUT,
                      lambda doc: load_and_fold(LocalModel.from_dict(msgspec.msgpack.decode(Path(doc).read_bytes()))))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
