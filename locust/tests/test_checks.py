"""What counts as a failure: bad status, bad body. A wrong species is counted apart, not failed."""

import pytest

from loadtest.checks import check_batch, check_model_info, check_single
from loadtest.telemetry import QUALITY
from loadtest.user import judge

GOOD = {"species": "Adelie", "species_id": 1, "probabilities": {"Adelie": 0.98, "Chinstrap": 0.015,
                                                                  "Gentoo": 0.005},
        "model": {"name": "penguins-classifier", "version": "1", "alias": "production"}}


def test_valid_prediction():
    v = check_single(GOOD, "Adelie")
    assert v.error is None and (v.checked, v.mismatches) == (1, 0)


def test_wrong_species_is_a_mismatch_not_a_failure():
    v = check_single(GOOD, "Gentoo")
    assert v.error is None and v.mismatches == 1


@pytest.mark.parametrize("body", [
    {**GOOD, "species": "Emperor"},
    {**GOOD, "species_id": 2},
    {k: v for k, v in GOOD.items() if k != "probabilities"},
    {**GOOD, "probabilities": {"Adelie": 1.0}},
    {**GOOD, "probabilities": {"Adelie": 0.5, "Chinstrap": 0.2, "Gentoo": 0.1}},
    {**GOOD, "probabilities": {"Adelie": 1.5, "Chinstrap": -0.5, "Gentoo": 0.0}},
    [GOOD],
    None,
])
def test_invalid_bodies_fail(body):
    assert check_single(body, "Adelie").error


def test_legacy_needs_species_name():
    assert check_single(GOOD, "Adelie", legacy=True).error
    assert check_single({**GOOD, "species_name": "Adelie"}, "Adelie", legacy=True).error is None


def test_batch():
    body = {"predictions": [GOOD, {**GOOD, "species": "Gentoo", "species_id": 3}], "model": GOOD["model"]}
    v = check_batch(body, ("Adelie", "Adelie"))
    assert v.error is None and (v.checked, v.mismatches) == (2, 1)
    assert check_batch(body, ("Adelie",)).error
    assert check_batch({"predictions": [GOOD, {}]}, ("Adelie", "Adelie")).error


def test_model_info():
    assert check_model_info({"name": "penguins-classifier", "version": "3", "alias": "production"}).error is None
    assert check_model_info({"model": {"name": "penguins-classifier", "version": "3"}}).error is None
    assert check_model_info({"detail": "no model"}).error


class FakeResponse:
    def __init__(self, status: int, body=None, text: str | None = None):
        self.status_code, self._body, self._text = status, body, text
        self.outcome = None

    def json(self):
        if self._text is not None:
            raise ValueError("not JSON")
        return self._body

    def failure(self, why):
        self.outcome = f"failure: {why}"

    def success(self):
        self.outcome = "success"


@pytest.mark.parametrize(("response", "outcome"), [
    (FakeResponse(200, GOOD), "success"),
    (FakeResponse(200, {**GOOD, "species": "Gentoo", "species_id": 3}), "success"),
    (FakeResponse(503, GOOD), "failure: HTTP 503"),
    (FakeResponse(200, text="<html>"), "failure: body is not JSON"),
    (FakeResponse(200, {"species": "Adelie"}), "failure: probabilities missing or not one per species"),
])
def test_judge(response, outcome):
    QUALITY.take()
    judge(response, lambda body: check_single(body, "Adelie"))
    assert response.outcome == outcome
    assert QUALITY.take()["checked"] == (1 if outcome == "success" else 0)
