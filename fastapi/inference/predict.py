"""The request path: raw JSON bytes -> msgspec validation -> folded model -> orjson bytes. No pydantic, no pandas."""

from __future__ import annotations

import operator
from collections import Counter
from typing import Any

import msgspec
import numpy as np
import orjson

from .errors import ApiError, from_decode, from_validation, item
from .features import ISLANDS, LEGACY_ISLAND_FIELDS, LEGACY_SEX_FIELDS, SEXES, SPECIES
from .model import ServedModel
from .schemas import BatchRequest, Row

UNSET = msgspec.UNSET
ISLAND_INDEX = {name: i for i, name in enumerate(ISLANDS)}
SEX_INDEX = {name: i for i, name in enumerate(SEXES)}
LEGACY_FIELDS = LEGACY_ISLAND_FIELDS + LEGACY_SEX_FIELDS
LEGACY_GETTER, ALL_UNSET = operator.attrgetter(*LEGACY_FIELDS), (UNSET,) * len(LEGACY_FIELDS)
ROW_DECODER = msgspec.json.Decoder(Row)
BATCH_DECODER = msgspec.json.Decoder(BatchRequest)
SINGLE_ROW_MAX_BYTES = 16_384  # a row is ~250 bytes; anything near this is not a penguin


def decode(decoder: msgspec.json.Decoder, body: bytes) -> Any:
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise from_validation(exc) from None
    except msgspec.DecodeError as exc:
        raise from_decode(exc, body) from None
    except UnicodeDecodeError as exc:
        raise ApiError.one(400, [], f"body is not valid UTF-8 JSON: {exc.reason} at byte {exc.start}",
                           "json_invalid") from None


def categorical(row: Row, loc: list) -> tuple[int, int, bool]:
    """(island index, sex index, is_legacy) for either form; 422 naming the fields otherwise."""
    island, sex = row.island, row.sex
    if island is not UNSET and sex is not UNSET and LEGACY_GETTER(row) == ALL_UNSET:  # the natural form, as-is
        return ISLAND_INDEX[island], SEX_INDEX[sex], False
    natural = [name for name in ("island", "sex") if getattr(row, name) is not UNSET]
    legacy = [name for name in LEGACY_FIELDS if getattr(row, name) is not UNSET]
    if natural and legacy:
        raise ApiError.one(422, loc, f"mixed request forms: natural field(s) {', '.join(natural)} together "
                           f"with one-hot field(s) {', '.join(legacy)}; send one form", "mixed_forms")
    if legacy:
        return (*_one_hot(row, loc, legacy), True)
    missing = [name for name in ("island", "sex") if name not in natural]
    if missing:
        hint = "" if natural else " (or the legacy one-hot fields island_*/sex_*)"
        raise ApiError(422, [item([*loc, name], f"field required: {name}{hint}", "missing") for name in missing])
    return ISLAND_INDEX[row.island], SEX_INDEX[row.sex], False


def _one_hot(row: Row, loc: list, present: list[str]) -> tuple[int, int]:
    missing = [name for name in LEGACY_FIELDS if name not in present]
    if missing:
        raise ApiError(422, [item([*loc, name], f"field required: {name} (legacy one-hot form)", "missing")
                             for name in missing])
    indices = []
    for group in (LEGACY_ISLAND_FIELDS, LEGACY_SEX_FIELDS):
        hot = [i for i, name in enumerate(group) if getattr(row, name) == 1]
        if len(hot) != 1:
            raise ApiError.one(422, [*loc, group[0].split("_")[0]],
                               f"exactly one of {', '.join(group)} must be 1, got {len(hot)}", "one_hot")
        indices.append(hot[0])
    return indices[0], indices[1]


def numeric(row: Row) -> tuple[float, float, float, float, float]:
    return (row.bill_length_mm, row.bill_depth_mm, row.flipper_length_mm, row.body_mass_g, float(row.year))


def _answer(proba: list[float], legacy: bool) -> dict[str, Any]:
    best = proba.index(max(proba))  # the first of equals, as argmax
    out = {"species": SPECIES[best], "species_id": best + 1,
           "probabilities": {"Adelie": proba[0], "Chinstrap": proba[1], "Gentoo": proba[2]}}
    if legacy:
        out["species_name"] = SPECIES[best]
    return out


def predict_single(served: ServedModel, body: bytes) -> tuple[bytes, str]:
    """One row -> (response body, predicted species)."""
    row = decode(ROW_DECODER, body)
    island, sex, legacy = categorical(row, [])
    out = _answer(served.predictor.predict_one(numeric(row), island, sex), legacy)
    out["model"] = served.ref
    return orjson.dumps(out), out["species"]


def predict_batch(served: ServedModel, body: bytes, max_batch: int) -> tuple[bytes, Counter]:
    """{"instances": [...]} -> (response body, predicted species counts); one vectorised numpy call."""
    rows = decode(BATCH_DECODER, body).instances
    if not rows:
        raise ApiError.one(422, ["instances"], "instances: must contain at least 1 row", "too_short")
    if len(rows) > max_batch:
        raise ApiError.one(413, ["instances"], f"instances: {len(rows)} rows, at most {max_batch} allowed "
                           "(MAX_BATCH)", "too_long")
    cats = [categorical(row, ["instances", i]) for i, row in enumerate(rows)]
    x_num = np.array([numeric(row) for row in rows], dtype=np.float64)
    island = np.fromiter((c[0] for c in cats), dtype=np.intp, count=len(cats))
    sex = np.fromiter((c[1] for c in cats), dtype=np.intp, count=len(cats))
    proba = served.predictor.predict_proba(x_num, island, sex).tolist()
    answers = [_answer(p, c[2]) for p, c in zip(proba, cats, strict=True)]
    body_out = orjson.dumps({"predictions": answers, "model": served.ref})
    return body_out, Counter(answer["species"] for answer in answers)
