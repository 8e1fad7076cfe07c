"""Request bodies sampled from real penguin rows, in the natural and the legacy one-hot form.

`penguins.csv` holds the 333 complete rows of the palmerpenguins data set with their true species. It was
generated once with:

    palmerpenguins.load_penguins()[["species", *FEATURES]].dropna()  # ints kept as ints, to_csv(index=False)

Bodies are encoded to JSON once per row at start, so the generator spends its CPU on requests, not on
`json.dumps`.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from loadtest.constants import ISLANDS, NUMERIC_FEATURES, SEXES

ROWS_CSV = Path(__file__).with_name("penguins.csv")
_INT_COLUMNS = ("flipper_length_mm", "body_mass_g", "year")


@dataclass(frozen=True)
class Row:
    species: str
    island: str
    sex: str
    numeric: tuple[tuple[str, float | int], ...]


@dataclass(frozen=True)
class Payload:
    form: str  # "natural", "legacy" or "batch"
    body: dict
    data: bytes
    expected: tuple[str, ...]  # true species, one per instance


def _encode(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


@lru_cache(maxsize=4)
def load_rows(path: Path = ROWS_CSV) -> tuple[Row, ...]:
    with open(path, newline="") as f:
        return tuple(_row(record) for record in csv.DictReader(f))


def _row(record: dict[str, str]) -> Row:
    numeric = tuple((k, int(record[k]) if k in _INT_COLUMNS else float(record[k])) for k in NUMERIC_FEATURES)
    return Row(species=record["species"], island=record["island"], sex=record["sex"], numeric=numeric)


def natural(row: Row) -> dict:
    return {**dict(row.numeric), "island": row.island, "sex": row.sex}


def legacy(row: Row) -> dict:
    one_hot = {f"island_{i}": int(row.island == i) for i in ISLANDS}
    one_hot |= {f"sex_{s}": int(row.sex == s) for s in SEXES}
    return {**dict(row.numeric), **one_hot}


def _payload(form: str, body: dict, row: Row) -> Payload:
    return Payload(form, body, _encode(body), (row.species,))


class PayloadSampler:
    """Single and batch payloads drawn uniformly from the rows; `legacy_share` of singles are legacy."""

    def __init__(self, rows: tuple[Row, ...], legacy_share: float, rng: random.Random | None = None):
        if not rows:
            raise ValueError("no penguin rows to sample from")
        self.rows = rows
        self.legacy_share = legacy_share
        self.rng = rng or random.Random()
        self._natural = [_payload("natural", natural(r), r) for r in rows]
        self._legacy = [_payload("legacy", legacy(r), r) for r in rows]

    def single(self) -> Payload:
        pool = self._legacy if self.rng.random() < self.legacy_share else self._natural
        return pool[self.rng.randrange(len(pool))]

    def batch(self, size: int) -> Payload:
        picks = [self._natural[self.rng.randrange(len(self._natural))] for _ in range(size)]
        data = b'{"instances":[' + b",".join(p.data for p in picks) + b"]}"
        body = {"instances": [p.body for p in picks]}
        return Payload("batch", body, data, tuple(p.expected[0] for p in picks))
