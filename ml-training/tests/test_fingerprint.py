import re

from trainer.data import load_data
from trainer.fingerprint import training_fingerprint

PARAMS = {"C": 1.0, "max_iter": 1000, "test_size": 0.2, "seed": 42}


def test_fingerprint_is_stable_and_order_independent():
    X, y = load_data()
    first = training_fingerprint(X, y, PARAMS)
    X2, y2 = load_data()
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert training_fingerprint(X2, y2, dict(reversed(PARAMS.items()))) == first


def test_fingerprint_changes_with_params_or_data():
    X, y = load_data()
    base = training_fingerprint(X, y, PARAMS)
    assert training_fingerprint(X, y, {**PARAMS, "C": 0.5}) != base
    assert training_fingerprint(X, y, {**PARAMS, "seed": 7}) != base
    changed = X.copy()
    changed.loc[0, "body_mass_g"] += 1
    assert training_fingerprint(changed, y, PARAMS) != base
    assert training_fingerprint(X.iloc[1:], y.iloc[1:], PARAMS) != base
