"""A stable fingerprint of what decides the model: data, parameters, scikit-learn version."""

import hashlib
import json
from collections.abc import Mapping

import pandas as pd
import sklearn

FINGERPRINT_TAG = "training_fingerprint"


def training_fingerprint(X: pd.DataFrame, y: pd.Series, params: Mapping[str, object]) -> str:
    """sha256 hex digest over the training data bytes, the parameters and the sklearn version."""
    digest = hashlib.sha256()
    digest.update(_data_bytes(X, y))
    digest.update(json.dumps(dict(params), sort_keys=True, default=str).encode())
    digest.update(f"scikit-learn=={sklearn.__version__}".encode())
    return digest.hexdigest()


def _data_bytes(X: pd.DataFrame, y: pd.Series) -> bytes:
    """Canonical CSV of the rows the model is trained on (column order and values, no index)."""
    frame = X.assign(**{str(y.name or "target"): y.to_numpy()})
    return frame.to_csv(index=False, lineterminator="\n", float_format="%.6g").encode()
