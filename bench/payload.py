"""Request bodies: a real penguin row in the form each server documents; the rows every server must agree on."""

from __future__ import annotations

import json

# Row 1 of the palmerpenguins data set (an Adelie from Torgersen), the model's input columns in their order.
ROW = {
    "bill_length_mm": 39.1,
    "bill_depth_mm": 18.7,
    "flipper_length_mm": 181,
    "body_mass_g": 3750,
    "year": 2007,
    "island": "Torgersen",
    "sex": "male",
}
SPECIES = "Adelie"
CHECK_ROWS_PER_SPECIES = 4


def check_rows() -> list[dict]:
    """The first complete rows of each species: every server is asked these before any load, one per request."""
    import palmerpenguins  # the trainer's own data set (requirements-dev); loaded only when a run starts

    frame = palmerpenguins.load_penguins().dropna().groupby("species").head(CHECK_ROWS_PER_SPECIES)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items() if k in ROW}
            for row in frame.to_dict("records")]


def _dumps(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def natural_body(row: dict = ROW) -> bytes:
    """Our API, the usual handler and the ceiling all take the natural form."""
    return _dumps(row)


def mlflow_body(row: dict = ROW) -> bytes:
    """`mlflow models serve` (and MLServer's /invocations) take a DataFrame in records orientation."""
    return _dumps({"dataframe_records": [row]})


def v2_body(row: dict = ROW) -> bytes:
    """The V2 (Open) Inference Protocol: one named tensor per column, strings as BYTES, numbers as FP64."""
    inputs = [{"name": k, "shape": [1], "datatype": "BYTES" if isinstance(v, str) else "FP64",
               "data": [v if isinstance(v, str) else float(v)]} for k, v in row.items()]
    return _dumps({"inputs": inputs})


def bento_body(row: dict = ROW) -> bytes:
    """The BentoML service's `predict(rows: list[dict])` endpoint: its arguments as a JSON object."""
    return _dumps({"rows": [row]})
