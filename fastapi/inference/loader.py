"""Model state, start-up loading with bounded retry/backoff, and the alias poller that hot-swaps versions."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from .artifact import LocalModel, load_estimator
from .metrics import Metrics
from .model import EstimatorPredictor, FoldedLinear, ServedModel
from .registry import ModelVersion, RegistryClient
from .settings import Settings

log = logging.getLogger("inference.loader")
PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])  # the child imports this same `inference` package


class LoadError(RuntimeError):
    pass


class ModelState:
    """The one reference requests read (`served`), plus why it is still None."""

    def __init__(self) -> None:
        self.served: ServedModel | None = None
        self.reason = "model not loaded yet: loader starting"


async def run_child(settings: Settings, module: str, *args: str, flags: tuple[str, ...] = (),
                    deadline: float | None = None) -> dict[str, Any]:
    """Run `python FLAGS -m MODULE OUT ARGS...` and return its msgpack document; LoadError with the stderr tail.
    Killed at `deadline` (time.monotonic()), or after MODEL_LOAD_TIMEOUT_S without one."""
    timeout = settings.model_load_timeout_s if deadline is None else max(deadline - time.monotonic(), 0.0)
    path = os.pathsep.join(filter(None, (PACKAGE_ROOT, os.environ.get("PYTHONPATH"))))
    with tempfile.TemporaryDirectory(prefix="inference-child-") as tmp:
        out = Path(tmp) / "out.msgpack"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *flags, "-m", module, str(out), *args, env={**os.environ, "PYTHONPATH": path},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout)
        except (TimeoutError, asyncio.CancelledError):
            proc.kill()
            await proc.wait()
            raise
        if proc.returncode != 0 or not out.exists():
            tail = stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise LoadError(f"{module} exited {proc.returncode}: {tail[0][-500:]}")
        return msgspec.msgpack.decode(out.read_bytes())


def download(settings: Settings, dest: Path, deadline: float) -> tuple[ModelVersion, dict[str, float], LocalModel]:
    """Resolve the alias and download that version over the registry's REST API (in this process: no mlflow)."""
    registry = RegistryClient(settings, deadline)
    version = registry.alias_version(settings.model_name, settings.model_alias)
    if not settings.mlflow_allow_pickle_deserialization:
        raise PermissionError("deserializing the model is disallowed: MLFLOW_ALLOW_PICKLE_DESERIALIZATION is not "
                              "'true' (loading a model can execute code from the artifact)")
    return version, registry.run_metrics(version.run_id), registry.download_model(version, dest)


def load_estimator_here(model: LocalModel) -> EstimatorPredictor:
    """Fallback for a model that cannot be folded: load it in this process (pays for scikit-learn)."""
    return EstimatorPredictor.wrap(load_estimator(model))


async def fetch_model(settings: Settings) -> ServedModel:
    """Download, then fold and check in a short-lived child (inference.foldcheck, -OO: no docstrings, ~12 MB
    less), so scikit-learn's ~70 MB leave with it; a model that cannot be folded is loaded here instead.
    Download and child share one MODEL_LOAD_TIMEOUT_S budget."""
    deadline = time.monotonic() + settings.model_load_timeout_s
    with tempfile.TemporaryDirectory(prefix="inference-model-") as tmp:
        version, metrics, model = await asyncio.to_thread(download, settings, Path(tmp) / "model", deadline)
        spec = Path(tmp) / "model.msgpack"
        spec.write_bytes(msgspec.msgpack.encode(model.to_dict()))
        fold = await run_child(settings, "inference.foldcheck", str(spec), flags=("-OO",), deadline=deadline)
        if "folded" in fold:
            predictor: FoldedLinear | EstimatorPredictor = FoldedLinear.from_dict(fold["folded"])
        else:
            log.warning("event=model_not_foldable version=%s reason=%r", version.version, fold.get("not_foldable"))
            predictor = await asyncio.to_thread(load_estimator_here, model)
    return ServedModel(predictor=predictor, name=settings.model_name, version=version.version,
                       alias=settings.model_alias, run_id=version.run_id, metrics=metrics,
                       loaded_at=datetime.now(UTC).isoformat(timespec="seconds"))


async def resolve_version(settings: Settings) -> str:
    """The version MODEL_ALIAS points at now: one GET."""
    registry = RegistryClient(settings)
    return (await asyncio.to_thread(registry.alias_version, settings.model_name, settings.model_alias)).version


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
        self.metrics.failed(stage)
        message = f"{type(exc).__name__}: {exc}"[:500]
        if self.state.served is None:
            self.state.reason = f"model not loaded yet: {stage} failed: {message}"
        log.warning("event=model_%s_failed model=%s alias=%s serving=%s error=%r", stage, self.settings.model_name,
                    self.settings.model_alias, self.state.served.version if self.state.served else None, message)
