"""Every malformed request is a 4xx with {"detail": [{loc, msg, type}]} naming the field; never a 500."""

import orjson
import pytest

from inference.schemas import NATURAL_EXAMPLE

GOOD = dict(NATURAL_EXAMPLE)  # the row the OpenAPI example shows
LEGACY = {**{k: v for k, v in GOOD.items() if k not in ("island", "sex")}, "island_Biscoe": 0, "island_Dream": 0,
          "island_Torgersen": 1, "sex_female": 0, "sex_male": 1}
JSON = {"content-type": "application/json"}


def without(row: dict, *names: str) -> dict:
    return {k: v for k, v in row.items() if k not in names}


def raw(row: dict, field: str, literal: str) -> bytes:
    return orjson.dumps({**row, field: "__X__"}).replace(b'"__X__"', literal.encode())


CASES = {  # name: (body bytes, status, loc, words expected in msg)
    "missing numeric": (without(GOOD, "bill_depth_mm"), 422, ["body", "bill_depth_mm"], "required"),
    "missing sex": (without(GOOD, "sex"), 422, ["body", "sex"], "required"),
    "neither form": (without(GOOD, "island", "sex"), 422, ["body", "island"], "legacy"),
    "extra field": ({**GOOD, "colour": "black"}, 422, ["body", "colour"], "unknown"),
    "string number": ({**GOOD, "bill_length_mm": "39.1"}, 422, ["body", "bill_length_mm"], "str"),
    "bool number": ({**GOOD, "body_mass_g": True}, 422, ["body", "body_mass_g"], "bool"),
    "null number": ({**GOOD, "flipper_length_mm": None}, 422, ["body", "flipper_length_mm"], "null"),
    "float year": ({**GOOD, "year": 2007.5}, 422, ["body", "year"], "int"),
    "NaN": (raw(GOOD, "bill_length_mm", "NaN"), 422, ["body", "bill_length_mm"], "finite"),
    "Infinity": (raw(GOOD, "body_mass_g", "Infinity"), 422, ["body", "body_mass_g"], "finite"),
    "-Infinity": (raw(GOOD, "bill_depth_mm", "-Infinity"), 422, ["body", "bill_depth_mm"], "finite"),
    "overflow": (raw(GOOD, "bill_depth_mm", "1e999"), 422, ["body", "bill_depth_mm"], "range"),
    "negative": ({**GOOD, "bill_length_mm": -1.0}, 422, ["body", "bill_length_mm"], "> 0"),
    "zero": ({**GOOD, "body_mass_g": 0}, 422, ["body", "body_mass_g"], "> 0"),
    "absurd": ({**GOOD, "flipper_length_mm": 5000.0}, 422, ["body", "flipper_length_mm"], "<= 500"),
    "old year": ({**GOOD, "year": 1492}, 422, ["body", "year"], ">= 1900"),
    "unknown island": ({**GOOD, "island": "Atlantis"}, 422, ["body", "island"], "Biscoe, Dream, Torgersen"),
    "unknown sex": ({**GOOD, "sex": "unknown"}, 422, ["body", "sex"], "female, male"),
    "null island": ({**GOOD, "island": None}, 422, ["body", "island"], "null"),
    "mixed forms": ({**GOOD, "island_Dream": 1}, 422, ["body"], "island_Dream"),
    "two islands": ({**LEGACY, "island_Dream": 1}, 422, ["body", "island"], "exactly one"),
    "no island set": ({**LEGACY, "island_Torgersen": 0}, 422, ["body", "island"], "got 0"),
    "two sexes": ({**LEGACY, "sex_female": 1}, 422, ["body", "sex"], "exactly one"),
    "one-hot 2": ({**LEGACY, "sex_male": 2}, 422, ["body", "sex_male"], "0, 1"),
    "one-hot missing": (without(LEGACY, "sex_female"), 422, ["body", "sex_female"], "required"),
    "array body": ([GOOD], 422, ["body"], "object"),
    "string body": ("hello", 422, ["body"], "object"),
    "empty body": (b"", 400, ["body"], "empty"),
    "not json": (b"bill_length_mm=39.1", 400, ["body"], "JSON"),
    "truncated json": (b'{"bill_length_mm": 39.1', 400, ["body"], "JSON"),
    "trailing garbage": (orjson.dumps(GOOD) + b" x", 400, ["body"], "JSON"),
    "bad utf-8": (b'{"island": "\xff\xfe"}', 400, ["body"], "JSON"),
    "deep nesting": (b"[" * 5000 + b"]" * 5000, 422, ["body"], "object"),
    "deep nesting in a field": (raw(GOOD, "year", "[" * 5000 + "]" * 5000), 422, ["body", "year"], "int"),
}


def post(client, path: str, body, headers=JSON):
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.post(path, content=content, headers=headers)


def assert_error(response, status: int, loc: list | None = None, words: str = "") -> dict:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail and set(detail[0]) == {"loc", "msg", "type"}
    if loc is not None:
        assert detail[0]["loc"] == loc, detail
    assert words.lower() in detail[0]["msg"].lower(), detail
    return detail[0]


@pytest.mark.parametrize("name", list(CASES))
def test_single_row(client, name):
    body, status, loc, words = CASES[name]
    assert_error(post(client, "/predict", body), status, loc, words)


@pytest.mark.parametrize("name", [n for n, case in CASES.items() if case[1] == 422 and case[2] != ["body"]])
def test_bad_row_inside_a_batch_names_its_index(client, name):
    body, status, loc, words = CASES[name]
    batch = b'{"instances": [' + orjson.dumps(GOOD) + b"," + (body if isinstance(body, bytes)
                                                              else orjson.dumps(body)) + b"]}"
    assert_error(post(client, "/predict/batch", batch), 422, ["body", "instances", 1, *loc[1:]], words)


@pytest.mark.parametrize(("body", "status", "loc", "words"), [
    ({"instances": [GOOD] * 51}, 413, ["body", "instances"], "at most 50"),
    ({"instances": []}, 422, ["body", "instances"], "at least 1"),
    ({}, 422, ["body", "instances"], "required"),
    ({"instances": GOOD}, 422, ["body", "instances"], "array"),
    ({"instances": [GOOD], "extra": 1}, 422, ["body", "extra"], "unknown"),
    (GOOD, 422, ["body", "bill_length_mm"], "unknown"),
])
def test_batch_envelope(client, body, status, loc, words):
    assert_error(post(client, "/predict/batch", body), status, loc, words)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/xml"])
def test_wrong_content_type_is_415(client, content_type):
    assert_error(post(client, "/predict", GOOD, {"content-type": content_type}), 415, ["header", "content-type"],
                 "application/json")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/vnd.api+json"])
def test_json_content_types_accepted(client, content_type):
    assert post(client, "/predict", GOOD, {"content-type": content_type}).status_code == 200


def test_oversized_bodies_are_413(client):
    padded = orjson.dumps(GOOD)[:-1] + b"," + b'"pad": "' + b"x" * 20_000 + b'"}'
    assert_error(post(client, "/predict", padded), 413, ["body"], "larger than 16384")
    big_batch = orjson.dumps({"instances": [GOOD] * 600})  # over the 64 KiB limit in these tests
    assert_error(post(client, "/predict/batch", big_batch), 413, ["body"], "larger than 65536")


def test_streamed_body_over_the_limit_is_413(client):
    def chunks():
        yield b'{"instances": ['
        for _ in range(1000):
            yield orjson.dumps(GOOD) + b","
    assert_error(client.post("/predict/batch", content=chunks(), headers=JSON), 413, ["body"], "larger")


def test_wrong_method_and_unknown_path_use_the_same_shape(client):
    assert_error(client.get("/predict"), 405, [], "method not allowed")
    assert_error(client.get("/nowhere"), 404, [], "not found")
