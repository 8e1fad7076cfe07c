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

from .artifact import LocalModel, load_estimator
from .metrics import Metrics
from .model import EstimatorPredictor, FoldedLinear, ServedModel
from .settings import Settings

log = logging.getLogger("inference.loader")
CHILD_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
             "MLFLOW_HTTP_REQUEST_TIMEOUT": "20", "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}


class LoadError(RuntimeError):
    pass


class ModelState:
    """The one reference requests read (`served`), plus why it is still None."""

    def __init__(self) -> None:
        self.served: ServedModel | None = None
        self.reason = "model not loaded yet: loader starting"


async def run_child(settings: Settings, module: str, *args: str, flags: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run `python FLAGS -m MODULE OUT ARGS...` and return its msgpack document; LoadError with the stderr tail."""
    env = {**CHILD_ENV, **os.environ}
    with tempfile.TemporaryDirectory(prefix="inference-child-") as tmp:
        out = Path(tmp) / "out.msgpack"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *flags, "-m", module, str(out), *args, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), settings.model_load_timeout_s)
        except (TimeoutError, asyncio.CancelledError):
            proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0 or not out.exists():
            tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise LoadError(f"{module} exited {proc.returncode}: {tail[0][-500:]}")
        return msgspec.msgpack.decode(out.read_bytes())


async def fetch_and_fold(settings: Settings, workdir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two children one after the other, so mlflow and scikit-learn are never in memory together.

    Step 1 (inference.fetch, mlflow only) resolves the alias and downloads the version into `workdir`;
    step 2 (inference.foldcheck, no mlflow, -OO: no docstrings, ~12 MB less) loads, folds and checks it.
    """
    doc = await run_child(settings, "inference.fetch", str(workdir / "model"))
    spec = workdir / "model.msgpack"
    spec.write_bytes(msgspec.msgpack.encode(doc["model"]))
    return doc, await run_child(settings, "inference.foldcheck", str(spec), flags=("-OO",))


def load_estimator_here(model: LocalModel) -> EstimatorPredictor:
    """Fallback for a model that cannot be folded: load it in this process (pays for scikit-learn)."""
    return EstimatorPredictor.wrap(load_estimator(model))


async def fetch_model(settings: Settings) -> ServedModel:
    with tempfile.TemporaryDirectory(prefix="inference-model-") as tmp:
        doc, fold = await fetch_and_fold(settings, Path(tmp))
        if "folded" in fold:
            predictor: FoldedLinear | EstimatorPredictor = FoldedLinear.from_dict(fold["folded"])
        else:
            log.warning("event=model_not_foldable version=%s reason=%r", doc["version"], fold.get("not_foldable"))
            predictor = await asyncio.to_thread(load_estimator_here, LocalModel.from_dict(doc["model"]))
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
    return (await run_child(settings, "inference.fetch", "--resolve-only"))["version"]


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
