"""Model state, start-up loading with bounded retry/backoff, and the alias poller that hot-swaps versions."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from .metrics import Metrics
from .model import EstimatorPredictor, FoldedLinear, ServedModel
from .settings import Settings

log = logging.getLogger("inference.loader")
CHILD_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true",
             "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}


class LoadError(RuntimeError):
    pass


class ModelState:
    """The one reference requests read (`served`), plus why it is still None."""

    def __init__(self) -> None:
        self.served: ServedModel | None = None
        self.reason = "model not loaded yet: loader starting"


async def run_fetch(settings: Settings, *extra: str) -> dict[str, Any]:
    """Run `python -m inference.fetch` and return its msgpack document; LoadError with the stderr tail."""
    env = {**CHILD_ENV, **os.environ}
    with tempfile.TemporaryDirectory(prefix="inference-fetch-") as tmp:
        out = Path(tmp) / "model.msgpack"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "inference.fetch", str(out), *extra, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), settings.model_load_timeout_s)
        except (TimeoutError, asyncio.CancelledError):
            proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0 or not out.exists():
            tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise LoadError(f"fetch exited {proc.returncode}: {tail[0][-500:]}")
        return msgspec.msgpack.decode(out.read_bytes())


def load_estimator(settings: Settings, version: str) -> Any:
    """Fallback for a model that cannot be folded: load it in this process (pays for mlflow + sklearn)."""
    import mlflow
    import mlflow.sklearn

    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    return mlflow.sklearn.load_model(f"models:/{settings.model_name}/{version}")


async def fetch_model(settings: Settings) -> ServedModel:
    doc = await run_fetch(settings)
    if "folded" in doc:
        predictor: FoldedLinear | EstimatorPredictor = FoldedLinear.from_dict(doc["folded"])
    else:
        log.warning("event=model_not_foldable version=%s reason=%r", doc["version"], doc.get("not_foldable"))
        predictor = EstimatorPredictor(await asyncio.to_thread(load_estimator, settings, doc["version"]))
    return ServedModel(predictor=predictor, name=settings.model_name, version=doc["version"],
                       alias=settings.model_alias, run_id=doc.get("run_id"), metrics=doc.get("metrics", {}),
                       loaded_at=datetime.now(UTC).isoformat(timespec="seconds"))


def _rest_alias_version(settings: Settings) -> str:
    query = urllib.parse.urlencode({"name": settings.model_name, "alias": settings.model_alias})
    url = f"{settings.mlflow_tracking_uri.rstrip('/')}/api/2.0/mlflow/registered-models/alias?{query}"
    with urllib.request.urlopen(url, timeout=10) as response:  # http(s) checked by the caller
        return str(json.load(response)["model_version"]["version"])


async def resolve_version(settings: Settings) -> str:
    """The version MODEL_ALIAS points at: one REST GET for an http(s) server, else via the fetch child."""
    if settings.mlflow_tracking_uri.startswith(("http://", "https://")):
        return await asyncio.to_thread(_rest_alias_version, settings)
    return (await run_fetch(settings, "--resolve-only"))["version"]


class ModelLoader:
    """Owns the background task: load until it works, then poll the alias and swap on change."""

    def __init__(self, settings: Settings, state: ModelState, metrics: Metrics,
                 load: Callable[[Settings], Awaitable[ServedModel]] = fetch_model,
                 resolve: Callable[[Settings], Awaitable[str]] = resolve_version) -> None:
        self.settings, self.state, self.metrics = settings, state, metrics
        self._load, self._resolve = load, resolve

    async def run(self) -> None:
        await self.initial_load()
        while True:
            await asyncio.sleep(self.settings.model_reload_interval_s)
            await self.poll_once()

    async def initial_load(self) -> None:
        loop = asyncio.get_running_loop()
        deadline, delay, warned = loop.time() + self.settings.model_load_timeout_s, 0.5, False
        while True:
            started = time.perf_counter()
            try:
                self.swap(await self._load(self.settings), time.perf_counter() - started)
                return
            except Exception as exc:  # any failure: log, count, retry
                self._failed("load", exc)
            if loop.time() >= deadline and not warned:
                warned = True
                log.error("event=model_load_timeout budget_s=%s retry_every_s=%s", self.settings.model_load_timeout_s,
                          self.settings.model_reload_interval_s)
            await asyncio.sleep(self.settings.model_reload_interval_s if warned else delay)
            delay = min(delay * 2, 8.0)

    async def poll_once(self) -> None:
        current = self.state.served
        try:
            version = await self._resolve(self.settings)
        except Exception as exc:
            self._failed("resolve", exc)
            return
        if current is not None and version == current.version:
            return
        log.info("event=alias_moved alias=%s from=%s to=%s", self.settings.model_alias,
                 current.version if current else None, version)
        started = time.perf_counter()
        try:
            self.swap(await self._load(self.settings), time.perf_counter() - started)
        except Exception as exc:
            self._failed("load", exc)

    def swap(self, served: ServedModel, seconds: float = 0.0) -> None:
        """Atomic: one attribute assignment; requests that already read the old reference finish on it."""
        old = self.state.served
        self.state.served = served
        self.state.reason = ""
        self.metrics.served(served.name, served.version, served.alias, served.predictor.kind, time.time())
        log.info("event=model_swapped name=%s version=%s previous=%s alias=%s kind=%s run_id=%s load_s=%.2f",
                 served.name, served.version, old.version if old else None, served.alias, served.predictor.kind,
                 served.run_id, seconds)

    def _failed(self, stage: str, exc: BaseException) -> None:
        self.metrics.reload_failures.labels(stage).inc()
        message = f"{type(exc).__name__}: {exc}"[:500]
        if self.state.served is None:
            self.state.reason = f"model not loaded yet: {stage} failed: {message}"
        log.warning("event=model_%s_failed model=%s alias=%s serving=%s error=%r", stage, self.settings.model_name,
                    self.settings.model_alias, self.state.served.version if self.state.served else None, message)
