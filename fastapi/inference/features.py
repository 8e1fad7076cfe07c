"""Feature constants shared with the trainer and Locust (a contract test keeps the copies equal)."""

NUMERIC_FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year")
CATEGORICAL_FEATURES = ("island", "sex")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES  # the model's input column order
ISLANDS = ("Biscoe", "Dream", "Torgersen")
SEXES = ("female", "male")
SPECIES = ("Adelie", "Chinstrap", "Gentoo")  # species_id = index + 1
LEGACY_ISLAND_FIELDS = tuple(f"island_{name}" for name in ISLANDS)
LEGACY_SEX_FIELDS = tuple(f"sex_{name}" for name in SEXES)
