"""Request and response shapes as msgspec Structs: one set of constraints for decoding and for OpenAPI."""

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

BillLength = Annotated[float, Meta(gt=0, le=200, description="Bill length in mm (0, 200]", examples=[39.1])]
BillDepth = Annotated[float, Meta(gt=0, le=100, description="Bill depth in mm (0, 100]", examples=[18.7])]
Flipper = Annotated[float, Meta(gt=0, le=500, description="Flipper length in mm (0, 500]", examples=[181.0])]
BodyMass = Annotated[float, Meta(gt=0, le=20_000, description="Body mass in g (0, 20000]", examples=[3750.0])]
Year = Annotated[int, Meta(ge=1900, le=2100, description="Year of observation", examples=[2007])]
Island = Literal["Biscoe", "Dream", "Torgersen"]
Sex = Literal["female", "male"]
OneHot = Annotated[Literal[0, 1], Meta(description="1 if set, else 0; exactly one per group")]


class Row(Struct, forbid_unknown_fields=True):
    """What the decoder accepts: numeric fields plus either form's categorical fields (checked afterwards)."""

    bill_length_mm: BillLength
    bill_depth_mm: BillDepth
    flipper_length_mm: Flipper
    body_mass_g: BodyMass
    year: Year
    island: Island | UnsetType = UNSET
    sex: Sex | UnsetType = UNSET
    island_Biscoe: OneHot | UnsetType = UNSET
    island_Dream: OneHot | UnsetType = UNSET
    island_Torgersen: OneHot | UnsetType = UNSET
    sex_female: OneHot | UnsetType = UNSET
    sex_male: OneHot | UnsetType = UNSET


class BatchRequest(Struct, forbid_unknown_fields=True):
    instances: list[Row]


# ---- documentation-only shapes (the decoder above enforces the same constraints) ----


class PenguinFeatures(Struct, forbid_unknown_fields=True):
    """Natural form."""

    bill_length_mm: BillLength
    bill_depth_mm: BillDepth
    flipper_length_mm: Flipper
    body_mass_g: BodyMass
    year: Year
    island: Island
    sex: Sex


class LegacyPenguinFeatures(Struct, forbid_unknown_fields=True):
    """Legacy one-hot form of the original course API: exactly one island_* and one sex_* set to 1."""

    bill_length_mm: BillLength
    bill_depth_mm: BillDepth
    flipper_length_mm: Flipper
    body_mass_g: BodyMass
    year: Year
    island_Biscoe: OneHot
    island_Dream: OneHot
    island_Torgersen: OneHot
    sex_female: OneHot
    sex_male: OneHot


class Probabilities(Struct):
    Adelie: float
    Chinstrap: float
    Gentoo: float


class ModelRef(Struct):
    name: str
    version: str
    alias: str


class BatchItem(Struct):
    species: Literal["Adelie", "Chinstrap", "Gentoo"]
    species_id: int
    probabilities: Probabilities
    species_name: str | UnsetType = UNSET  # legacy rows only


class Prediction(Struct):
    species: Literal["Adelie", "Chinstrap", "Gentoo"]
    species_id: Annotated[int, Meta(ge=1, le=3, description="1 Adelie, 2 Chinstrap, 3 Gentoo")]
    probabilities: Probabilities
    model: ModelRef
    species_name: str | UnsetType = UNSET  # legacy requests only


class BatchPrediction(Struct):
    predictions: list[BatchItem]
    model: ModelRef


class ErrorItem(Struct):
    loc: list[str | int]
    msg: str
    type: str


class ErrorResponse(Struct):
    detail: list[ErrorItem]


NATURAL_EXAMPLE = {"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181.0,
                   "body_mass_g": 3750.0, "year": 2007, "island": "Torgersen", "sex": "male"}
LEGACY_EXAMPLE = {"bill_length_mm": 46.5, "bill_depth_mm": 17.9, "flipper_length_mm": 192.0,
                  "body_mass_g": 3500.0, "year": 2007, "island_Biscoe": 0, "island_Dream": 1,
                  "island_Torgersen": 0, "sex_female": 1, "sex_male": 0}


REF = "#/components/schemas/{name}"


def openapi_components(max_batch: int) -> dict[str, Any]:
    """JSON schemas for /docs, generated from the Structs; the either-form unions are composed by hand."""
    types = [PenguinFeatures, LegacyPenguinFeatures, Prediction, BatchPrediction, ErrorResponse]
    _, components = msgspec.json.schema_components(types, ref_template=REF)
    components["PredictRequest"] = {
        "title": "PredictRequest",
        "oneOf": [{"$ref": REF.format(name="PenguinFeatures")}, {"$ref": REF.format(name="LegacyPenguinFeatures")}],
    }
    components["BatchRequest"] = {
        "title": "BatchRequest",
        "type": "object",
        "properties": {"instances": {"type": "array", "minItems": 1, "maxItems": max_batch,
                                     "items": {"$ref": REF.format(name="PredictRequest")}}},
        "required": ["instances"],
        "additionalProperties": False,
    }
    return components
