"""Trainer, API and Locust agree: one set of shared constants, and every body the locustfile can send is accepted
by the API's own request decoding.

Uses the API's decoders and its form check (`inference.predict`), plus its documented per-form schemas, on
all 333 rows in both forms and on batches up to the API's MAX_BATCH. No server, no Locust runtime.
"""

import random

import msgspec
import pytest

from inference import features as api_features
from inference.predict import BATCH_DECODER, ROW_DECODER, categorical, decode
from inference.schemas import LegacyPenguinFeatures, PenguinFeatures
from inference.settings import Settings as ApiSettings
from loadtest import constants as lt
from loadtest.payloads import PayloadSampler, legacy, load_rows, natural
from loadtest.settings import Settings as LocustSettings
from trainer import data as trainer_data

ROWS = load_rows()
SHARED = ("NUMERIC_FEATURES", "CATEGORICAL_FEATURES", "FEATURES", "ISLANDS", "SEXES", "SPECIES")


@pytest.mark.parametrize("name", SHARED)
def test_shared_constants_are_equal_in_all_three_services(name):
    copies = {"trainer": getattr(trainer_data, name), "api": getattr(api_features, name),
              "locust": getattr(lt, name)}
    assert len(set(copies.values())) == 1, copies
    assert copies["trainer"], name


def test_legacy_fields_follow_the_shared_constants():
    assert lt.LEGACY_FIELDS == (lt.NUMERIC_FEATURES + api_features.LEGACY_ISLAND_FIELDS
                                + api_features.LEGACY_SEX_FIELDS)


@pytest.mark.parametrize("form", ["natural", "legacy"])
def test_every_single_payload_is_accepted(form):
    sampler = PayloadSampler(ROWS, 1.0 if form == "legacy" else 0.0)
    pool = sampler._legacy if form == "legacy" else sampler._natural
    schema = LegacyPenguinFeatures if form == "legacy" else PenguinFeatures
    for payload, row in zip(pool, ROWS, strict=True):
        decoded = decode(ROW_DECODER, payload.data)
        island, sex, is_legacy = categorical(decoded, [])
        assert (api_features.ISLANDS[island], api_features.SEXES[sex], is_legacy) == (row.island, row.sex,
                                                                                       form == "legacy")
        msgspec.json.decode(payload.data, type=schema, strict=True)


def test_batches_up_to_the_api_limit_are_accepted():
    max_batch = ApiSettings().max_batch
    assert LocustSettings().batch_size <= max_batch
    sampler = PayloadSampler(ROWS, 0.2, random.Random(7))
    for size in (1, LocustSettings().batch_size, max_batch):
        payload = sampler.batch(size)
        rows = decode(BATCH_DECODER, payload.data).instances
        assert len(rows) == size
        assert all(categorical(r, ["instances", i])[2] is False for i, r in enumerate(rows))


def test_natural_and_legacy_builders_cover_all_rows():
    assert {tuple(natural(r)) for r in ROWS} == {lt.FEATURES}
    assert {tuple(legacy(r)) for r in ROWS} == {lt.LEGACY_FIELDS}
