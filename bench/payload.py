"""The one request body every variant gets: a real penguin row, in the form each server understands."""

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


def natural_body() -> bytes:
    """Our API, the usual handler and the ceiling all take the natural form."""
    return json.dumps(ROW, separators=(",", ":")).encode()


def mlflow_body() -> bytes:
    """`mlflow models serve` takes a DataFrame in records orientation: the same row, wrapped."""
    return json.dumps({"dataframe_records": [ROW]}, separators=(",", ":")).encode()
