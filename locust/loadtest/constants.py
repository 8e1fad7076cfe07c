"""The few constants every service writes in its own copy; tests/ keeps the copies equal."""

NUMERIC_FEATURES = ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year")
CATEGORICAL_FEATURES = ("island", "sex")
FEATURES = NUMERIC_FEATURES + CATEGORICAL_FEATURES
ISLANDS = ("Biscoe", "Dream", "Torgersen")
SEXES = ("female", "male")
SPECIES = ("Adelie", "Chinstrap", "Gentoo")  # species_id = index + 1
LEGACY_FIELDS = NUMERIC_FEATURES + tuple(f"island_{i}" for i in ISLANDS) + tuple(f"sex_{s}" for s in SEXES)
