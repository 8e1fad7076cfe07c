"""One error shape for every route: {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import msgspec
import orjson

_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
_FIELD = re.compile(r"field `(?P<field>[^`]+)`")
_CHOICES = {"island": "Biscoe, Dream, Torgersen", "sex": "female, male"}


class ApiError(Exception):
    """A client (or readiness) error with its HTTP status and detail items."""

    def __init__(self, status: int, items: list[dict[str, Any]]):
        super().__init__(items[0]["msg"] if items else str(status))
        self.status = status
        self.items = items

    @classmethod
    def one(cls, status: int, loc: list, msg: str, type_: str) -> ApiError:
        return cls(status, [item(loc, msg, type_)])

    def body(self) -> bytes:
        return orjson.dumps({"detail": self.items})


def item(loc: list, msg: str, type_: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": msg, "type": type_}


def from_validation(exc: msgspec.ValidationError) -> ApiError:
    """Turn msgspec's message ("Expected `int`, got `str` - at `$.instances[2].year`") into a detail item."""
    text = str(exc)
    match = _PATH.search(text)
    loc: list[str | int] = []
    if match:
        text = text[: match.start()]
        loc = [name if name else int(index) for name, index in _STEP.findall(match.group("path"))]
    field = _FIELD.search(text)
    if text.startswith("Object missing required field"):
        return ApiError.one(422, [*loc, field["field"]], f"field required: {field['field']}", "missing")
    if text.startswith("Object contains unknown field"):
        return ApiError.one(422, [*loc, field["field"]], f"unknown field: {field['field']}", "extra_forbidden")
    name = loc[-1] if loc else "body"
    if text.startswith("Invalid enum value"):
        choices = _CHOICES.get(str(name), "0, 1")
        return ApiError.one(422, loc, f"{name}: {text[len('Invalid enum value '):]} is not one of {choices}",
                            "enum")
    kind = "out_of_range" if (">" in text or "<" in text or "range" in text) else "type_error"
    return ApiError.one(422, loc, f"{name}: {text}", kind)


def from_decode(exc: msgspec.DecodeError, body: bytes) -> ApiError:
    """Malformed JSON -> 400; JSON with NaN/Infinity (which Python's parser accepts) -> 422 naming the field."""
    if not body.strip():
        return ApiError.one(400, [], "empty body: expected a JSON object", "json_invalid")
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return ApiError.one(400, [], f"body is not valid JSON: {exc}", "json_invalid")
    bad = _non_finite(parsed, [])
    if bad is not None:
        return ApiError.one(422, bad, f"{bad[-1] if bad else 'body'}: must be a finite number", "finite_number")
    return ApiError.one(400, [], f"body is not valid JSON: {exc}", "json_invalid")


def _non_finite(value: Any, loc: list) -> list | None:
    if isinstance(value, float) and not math.isfinite(value):
        return loc
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        found = _non_finite(child, [*loc, key])
        if found is not None:
            return found
    return None
