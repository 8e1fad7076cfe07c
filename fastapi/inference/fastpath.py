"""A thin pure-ASGI layer in front of FastAPI: POST /predict and /predict/batch are answered here directly.

FastAPI still declares both routes (same handlers, for /docs and direct use); every other request is passed
through. This layer also records request metrics for all routes and counts the requests in flight.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .errors import ApiError
from .loader import ModelState
from .metrics import Metrics
from .predict import SINGLE_ROW_MAX_BYTES, predict_batch, predict_single
from .settings import Settings

log = logging.getLogger("inference.api")
JSON_HEADERS = [(b"content-type", b"application/json")]
INTERNAL = b'{"detail":[{"loc":[],"msg":"internal error","type":"internal_error"}]}'


class ClientGone(Exception):
    pass


class PredictService:
    """Transport-independent core shared by the ASGI fast path and the FastAPI route declarations."""

    def __init__(self, state: ModelState, metrics: Metrics, settings: Settings) -> None:
        self.state, self.metrics = state, metrics
        self.max_batch = settings.max_batch
        self.limits = {"/predict": min(SINGLE_ROW_MAX_BYTES, settings.max_body_bytes),
                       "/predict/batch": settings.max_body_bytes}

    def respond(self, route: str, content_type: bytes | None, body: bytes) -> tuple[int, bytes]:
        try:
            check_content_type(content_type)
            if len(body) > self.limits[route]:
                raise too_large(self.limits[route])
            served = self.state.served  # read the reference once: a concurrent swap cannot split a request
            if served is None:
                raise ApiError(503, [{"loc": ["model"], "msg": self.state.reason, "type": "model_not_ready"}])
            if route == "/predict":
                out, species = predict_single(served, body)
                self.metrics.predicted(species)
            else:
                out, counts = predict_batch(served, body, self.max_batch)
                self.metrics.predicted_many(counts.items())
            return 200, out
        except ApiError as exc:
            return exc.status, exc.body()
        except Exception:
            log.exception("event=predict_error route=%s", route)
            return 500, INTERNAL


def check_content_type(value: bytes | None) -> None:
    """JSON only; a missing header is read as JSON (as FastAPI does), anything else is 415."""
    if value is None:
        return
    media = value.split(b";", 1)[0].strip().lower()
    if media != b"application/json" and not (media.startswith(b"application/") and media.endswith(b"+json")):
        raise ApiError(415, [{"loc": ["header", "content-type"], "type": "unsupported_media_type",
                              "msg": f"content-type must be application/json, got {value.decode('latin-1')!r}"}])


def too_large(limit: int) -> ApiError:
    return ApiError(413, [{"loc": ["body"], "msg": f"body larger than {limit} bytes", "type": "too_large"}])


async def read_body(scope: dict, receive: Any, limit: int) -> tuple[bytes | None, bytes]:
    """(content-type, body); 413 from Content-Length before reading, or as soon as the stream passes limit."""
    content_type = None
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"content-length":
            if not value.isdigit():
                raise ApiError(400, [{"loc": ["header", "content-length"], "msg": "invalid Content-Length",
                                      "type": "invalid_header"}])
            if int(value) > limit:
                raise too_large(limit)
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body"):
        if message["type"] == "http.disconnect":
            raise ClientGone
        return content_type, body
    chunks, size = [body], len(body)
    while message.get("more_body"):
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return content_type, b"".join(chunks)


class FastPath:
    """The ASGI app uvicorn runs: hot routes inline, everything else delegated to FastAPI."""

    def __init__(self, app: Any, service: PredictService, metrics: Metrics) -> None:
        self.app, self.service, self.metrics = app, service, metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method, started, metrics = scope["path"], scope["method"], time.perf_counter(), self.metrics
        metrics.in_flight += 1
        try:
            if method == "POST" and path in self.service.limits:
                status = await self._predict(path, scope, receive, send)
            else:
                status = await self._delegate(scope, receive, send)
        finally:
            metrics.in_flight -= 1
        metrics.observe(path, method, status, time.perf_counter() - started)

    async def _predict(self, path: str, scope: dict, receive: Any, send: Any) -> int:
        try:
            content_type, body = await read_body(scope, receive, self.service.limits[path])
            status, out = self.service.respond(path, content_type, body)
        except ApiError as exc:
            status, out = exc.status, exc.body()
        except ClientGone:
            return 499
        headers = [*JSON_HEADERS, (b"content-length", str(len(out)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": out})
        return status

    async def _delegate(self, scope: dict, receive: Any, send: Any) -> int:
        status = 500

        async def capture(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, capture)
        return status
