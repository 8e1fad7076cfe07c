import pytest

from trainer.registry import is_at_least_as_good


@pytest.mark.parametrize(
    ("new", "old", "expected"),
    [
        ({"accuracy": 0.99, "f1_macro": 0.90}, {"accuracy": 0.98, "f1_macro": 0.99}, True),  # accuracy first
        ({"accuracy": 0.98, "f1_macro": 0.97}, {"accuracy": 0.99, "f1_macro": 0.90}, False),
        ({"accuracy": 0.98, "f1_macro": 0.97}, {"accuracy": 0.98, "f1_macro": 0.96}, True),  # then f1_macro
        ({"accuracy": 0.98, "f1_macro": 0.95}, {"accuracy": 0.98, "f1_macro": 0.96}, False),
        ({"accuracy": 0.98, "f1_macro": 0.96}, {"accuracy": 0.98, "f1_macro": 0.96}, True),  # ties: newer wins
        ({"accuracy": 0.5, "f1_macro": 0.5}, {}, True),  # a holder without metrics cannot win
    ],
)
def test_alias_rule_ranks_by_accuracy_then_f1_macro(new, old, expected):
    assert is_at_least_as_good(new, old) is expected
