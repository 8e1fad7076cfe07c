from trainer.data import CATEGORICAL_FEATURES, FEATURES, ISLANDS, NUMERIC_FEATURES, SEXES, SPECIES, load_data


def test_constants_match_the_contract():
    assert NUMERIC_FEATURES == ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year")
    assert CATEGORICAL_FEATURES == ("island", "sex")
    assert FEATURES == NUMERIC_FEATURES + CATEGORICAL_FEATURES
    assert (ISLANDS, SEXES, SPECIES) == (
        ("Biscoe", "Dream", "Torgersen"),
        ("female", "male"),
        ("Adelie", "Chinstrap", "Gentoo"),
    )


def test_load_data_returns_complete_rows_in_feature_order():
    X, y = load_data()
    assert tuple(X.columns) == FEATURES
    assert len(X) == len(y) == 333  # 344 shipped rows, 11 with a missing value
    assert not X.isna().any().any() and not y.isna().any()
    assert set(y) == set(SPECIES)
    assert set(X["island"]) == set(ISLANDS) and set(X["sex"]) == set(SEXES)
    assert all(X[name].dtype == "float64" for name in NUMERIC_FEATURES)
    assert list(X.index) == list(range(len(X)))
