"""Load the Palmer penguins data shipped inside the `palmerpenguins` package."""

import pandas as pd
from palmerpenguins import load_penguins

NUMERIC_FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year")
CATEGORICAL_FEATURES = ("island", "sex")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES  # the model's input column order
ISLANDS = ("Biscoe", "Dream", "Torgersen")
SEXES = ("female", "male")
SPECIES = ("Adelie", "Chinstrap", "Gentoo")  # species_id = index + 1
TARGET = "species"


def load_data() -> tuple[pd.DataFrame, pd.Series]:
    """Return (X, y): X has exactly the columns FEATURES, y the species; incomplete rows dropped.

    Numeric columns are float64 so the logged signature accepts integers and floats alike.
    """
    frame = load_penguins()
    frame = frame.dropna(subset=[*FEATURES, TARGET]).reset_index(drop=True)
    X = frame[list(FEATURES)].astype({name: "float64" for name in NUMERIC_FEATURES})
    y = frame[TARGET].rename(TARGET)
    return X, y
