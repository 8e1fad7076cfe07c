"""App factory: `uvicorn --factory inference.main:create_app` (or `python -m inference`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException

from .docs import install_docs
from .errors import ApiError
from .fastpath import FastPath, PredictService
from .loader import ModelLoader, ModelState, fetch_model, resolve_version
from .metrics import Metrics
from .model import ServedModel
from .routes import build_router, json_response
from .schemas import openapi_components
from .settings import Settings

log = logging.getLogger("inference.api")
DESCRIPTION = ("Palmer penguin species from measurements. The registered MLflow model is folded into numpy "
               "arrays and hot-reloaded when its alias moves. Errors: `{\"detail\": [{loc, msg, type}]}`.")


def create_app(settings: Settings | None = None,
               load: Callable[[Settings], Awaitable[ServedModel]] = fetch_model,
               resolve: Callable[[Settings], Awaitable[str]] = resolve_version) -> FastPath:
    settings = settings or Settings()
    state, metrics = ModelState(), Metrics(settings.metrics_dir, settings.cgroup_root,
                                         supervised=settings.web_concurrency > 1)
    service = PredictService(state, metrics, settings)
    loader = ModelLoader(settings, state, metrics, load=load, resolve=resolve)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        log.info("event=startup model=%s alias=%s tracking_uri=%s reload_interval_s=%s", settings.model_name,
                 settings.model_alias, settings.mlflow_tracking_uri, settings.model_reload_interval_s)
        tasks = [asyncio.create_task(loader.run(), name="model-loader"),
                 asyncio.create_task(metrics.share_periodically(), name="metrics-share")]
        yield
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        log.info("event=shutdown")

    api = FastAPI(title="Penguin species API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)  # served from local assets instead of a CDN
    api.include_router(build_router(service, state, metrics))
    install_docs(api)
    _install_error_handlers(api)
    _install_openapi(api, settings.max_batch)
    app = FastPath(api, service, metrics)
    app.model_state, app.loader, app.settings = state, loader, settings
    return app


def _install_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> Response:
        return Response(exc.body(), status_code=exc.status, media_type="application/json")

    @api.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> Response:
        kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        response = json_response({"detail": [{"loc": [], "msg": str(exc.detail), "type": kind}]},
                                 exc.status_code)
        response.headers.update(exc.headers or {})
        return response

    @api.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> Response:
        items = [{"loc": list(e.get("loc", [])), "msg": str(e.get("msg")), "type": str(e.get("type"))}
                 for e in exc.errors()]
        return json_response({"detail": items}, 422)


def _install_openapi(api: FastAPI, max_batch: int) -> None:
    def openapi() -> dict:
        if api.openapi_schema is None:
            schema = get_openapi(title=api.title, version=api.version, description=api.description,
                                 routes=api.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(openapi_components(max_batch))
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi
