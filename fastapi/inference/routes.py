"""FastAPI routes: the documented prediction routes (served by the fast path in production) and the cold ones."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from .errors import ApiError
from .fastpath import PredictService
from .features import ISLANDS, LEGACY_ISLAND_FIELDS, LEGACY_SEX_FIELDS, NUMERIC_FEATURES, SEXES, SPECIES
from .loader import ModelState
from .metrics import Metrics
from .schemas import LEGACY_EXAMPLE, NATURAL_EXAMPLE, REF

PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


ERRORS = {
    413: _json("ErrorResponse", "Body or batch too large"),
    415: _json("ErrorResponse", "Content-Type is not application/json"),
    422: _json("ErrorResponse", "Validation error naming the field and the problem (400 for malformed JSON)"),
    503: _json("ErrorResponse", "No model loaded yet"),
}


def _body(schema: str, examples: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": _ref(schema), "examples": examples}}}}


SINGLE_EXAMPLES = {
    "natural": {"summary": "Natural features", "value": NATURAL_EXAMPLE},
    "legacy": {"summary": "Legacy one-hot form (answers species_name too)", "value": LEGACY_EXAMPLE},
}
BATCH_EXAMPLES = {"mixed": {"summary": "Rows in either form", "value": {"instances": [NATURAL_EXAMPLE,
                                                                                     LEGACY_EXAMPLE]}}}


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def build_router(service: PredictService, state: ModelState, metrics: Metrics) -> APIRouter:
    router = APIRouter()

    async def run(route: str, request: Request) -> Response:
        status, out = service.respond(route, request.headers.get("content-type", "").encode("latin-1") or None,
                                      await request.body())
        return Response(out, status_code=status, media_type="application/json")

    @router.post("/predict", tags=["predict"], summary="Predict one penguin (natural or legacy one-hot form)",
                 response_class=Response, openapi_extra=_body("PredictRequest", SINGLE_EXAMPLES),
                 responses={200: _json("Prediction", "Predicted species"), **ERRORS})
    async def predict(request: Request) -> Response:
        return await run("/predict", request)

    @router.post("/predict/batch", tags=["predict"], summary="Predict up to MAX_BATCH penguins at once",
                 response_class=Response, openapi_extra=_body("BatchRequest", BATCH_EXAMPLES),
                 responses={200: _json("BatchPrediction", "Predictions in request order"), **ERRORS})
    async def predict_batch(request: Request) -> Response:
        return await run("/predict/batch", request)

    @router.get("/model-info", tags=["model"], summary="The served model, its training metrics and inputs")
    async def model_info() -> Response:
        served = state.served
        if served is None:
            raise ApiError(503, [{"loc": ["model"], "msg": state.reason, "type": "model_not_ready"}])
        return json_response({**served.ref, "run_id": served.run_id, "metrics": served.metrics,
                              "loaded_at": served.loaded_at, "predictor": served.predictor.kind,
                              "species": SPECIES, "features": FEATURE_SCHEMA})

    @router.get("/metrics", tags=["ops"], summary="Prometheus metrics", response_class=Response)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=PROMETHEUS)

    @router.get("/health", tags=["ops"], summary="Liveness: 200 while the process runs")
    async def health() -> Response:
        return json_response({"status": "ok"})

    @router.get("/ready", tags=["ops"], summary="Readiness: 200 once a model is loaded, else 503 with reason")
    async def ready() -> Response:
        served = state.served
        if served is None:
            return json_response({"status": "not_ready", "reason": state.reason}, 503)
        return json_response({"status": "ready", "model": served.ref})

    return router


FEATURE_SCHEMA = {
    "numeric": list(NUMERIC_FEATURES),
    "island": list(ISLANDS),
    "sex": list(SEXES),
    "legacy_one_hot": list(LEGACY_ISLAND_FIELDS + LEGACY_SEX_FIELDS),
}
