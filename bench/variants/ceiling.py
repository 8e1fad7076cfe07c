"""The ceiling (variant 4): a bare ASGI app that reads the body, parses the JSON and answers a constant.

Nothing a real model server can skip, nothing more: same uvicorn uvloop/httptools stack, same JSON parser as our
API (orjson). No model, no validation, no routing beyond the path check.

    python -m uvicorn bench.variants.ceiling:app --loop uvloop --http httptools --no-access-log --workers 1
"""

from __future__ import annotations

import orjson

ANSWER = orjson.dumps({"species": "Adelie", "species_id": 1})
READY = orjson.dumps({"status": "ready"})
HEADERS = [(b"content-type", b"application/json")]


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["method"] == "POST":
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError:
            await _answer(send, 422, b'{"detail":"body is not JSON"}')
            return
        await _answer(send, 200, ANSWER)
        return
    await _answer(send, 200, READY)


async def _answer(send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*HEADERS, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
