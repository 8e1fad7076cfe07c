"""Payloads come from the real, complete penguin rows, in the right form and the configured legacy share."""

import json
import random

import pytest

from loadtest.constants import FEATURES, ISLANDS, LEGACY_FIELDS, SEXES, SPECIES
from loadtest.payloads import PayloadSampler, legacy, load_rows, natural


def test_rows_are_the_complete_penguins():
    rows = load_rows()
    assert len(rows) == 333
    assert {r.species for r in rows} == set(SPECIES)
    assert {r.island for r in rows} == set(ISLANDS) and {r.sex for r in rows} == set(SEXES)
    assert all(v is not None and v > 0 for r in rows for _, v in r.numeric)


def test_natural_and_legacy_fields():
    row = load_rows()[0]
    assert tuple(natural(row)) == FEATURES
    body = legacy(row)
    assert tuple(body) == LEGACY_FIELDS
    assert sum(body[f"island_{i}"] for i in ISLANDS) == 1 and sum(body[f"sex_{s}"] for s in SEXES) == 1
    assert body[f"island_{row.island}"] == 1 and body[f"sex_{row.sex}"] == 1
    assert isinstance(body["year"], int) and isinstance(body["body_mass_g"], int)


@pytest.mark.parametrize("share", [0.0, 0.2, 0.5, 1.0])
def test_legacy_share(share):
    sampler = PayloadSampler(load_rows(), share, random.Random(42))
    forms = [sampler.single().form for _ in range(5000)]
    assert forms.count("legacy") / len(forms) == pytest.approx(share, abs=0.03)


def test_payload_bytes_are_the_body_and_expected_is_the_true_species():
    sampler = PayloadSampler(load_rows(), 0.5, random.Random(1))
    by_features = {tuple(natural(r).items()): r.species for r in load_rows()}
    for _ in range(200):
        p = sampler.single()
        assert json.loads(p.data) == p.body
        if p.form == "natural":
            assert by_features[tuple(p.body.items())] == p.expected[0]


def test_batch():
    sampler = PayloadSampler(load_rows(), 1.0, random.Random(3))
    p = sampler.batch(25)
    assert p.form == "batch" and len(p.body["instances"]) == 25 == len(p.expected)
    assert json.loads(p.data) == p.body
    assert all(tuple(i) == FEATURES for i in p.body["instances"])  # batches use the natural form


def test_no_rows_is_an_error():
    with pytest.raises(ValueError):
        PayloadSampler((), 0.2)
