"""The trainer's entry point: wait for MLflow, train unless nothing changed, register, move the alias."""

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import mlflow
import requests
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from pydantic import ValidationError

from trainer.data import load_data
from trainer.fingerprint import training_fingerprint
from trainer.registry import KnownVersion, apply_alias_rule, find_alias_holder, find_same_training, register_version
from trainer.settings import Settings
from trainer.tracking import log_training_run
from trainer.train import TrainingError, train
from trainer.wait import MlflowUnavailableError, wait_for_mlflow

log = logging.getLogger("trainer")


@dataclass(frozen=True)
class TrainingOutcome:
    """What one trainer run did; `message` is the one-line summary printed by main()."""

    registered: bool
    version: str | None
    alias_moved: bool
    message: str
    metrics: dict[str, float] = field(default_factory=dict)


def run(settings: Settings) -> TrainingOutcome:
    """One complete trainer run against settings.mlflow_tracking_uri (callable in-process)."""
    attempts = wait_for_mlflow(settings.mlflow_tracking_uri, settings.mlflow_wait_timeout_s)
    log.info("MLflow at %s answers (after %d attempt(s))", settings.mlflow_tracking_uri, attempts)
    with _using_tracking_uri(settings.mlflow_tracking_uri):
        return _train_and_register(settings, MlflowClient(settings.mlflow_tracking_uri))


def _train_and_register(settings: Settings, client: MlflowClient) -> TrainingOutcome:
    name, alias = settings.model_name, settings.model_alias
    X, y = load_data()
    params = settings.hyperparams()
    fingerprint = training_fingerprint(X, y, params)
    holder = find_alias_holder(client, name, alias)
    if not settings.train_force and holder is not None and holder.fingerprint == fingerprint:
        return _unchanged(name, alias, holder)
    same = None if settings.train_force else find_same_training(client, name, fingerprint)
    if same is not None:  # e.g. a worse model already registered from these parameters: no duplicate per `up`
        return _already_registered(client, name, alias, same, holder)

    trained = train(X, y, settings)
    logged = log_training_run(
        client, settings.mlflow_experiment_name, trained, params, fingerprint, forced=settings.train_force
    )
    version = register_version(client, name, logged.model_uri, fingerprint, trained.metrics)
    moved, alias_note = apply_alias_rule(client, name, alias, version.version, trained.metrics)
    scores = f"accuracy {trained.metrics['accuracy']:.4f}, f1_macro {trained.metrics['f1_macro']:.4f}"
    why = "forced" if settings.train_force else "changed data or parameters" if holder else "nothing served yet"
    message = f"registered {name} version {version.version} ({scores}; {why}); {alias_note}"
    return TrainingOutcome(True, version.version, moved, message, trained.metrics)


def main() -> int:
    """Run once; print a one-line outcome. 0 on success, 1 on an expected failure, 2 on bad config."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
    except ValidationError as exc:
        errors = "; ".join(f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        print(f"trainer: invalid configuration: {errors}", file=sys.stderr)
        return 2
    try:
        outcome = run(settings)
    except (MlflowUnavailableError, TrainingError) as exc:
        return _fail(str(exc))
    except MlflowException as exc:
        return _fail(f"MLflow call failed: {_first_line(exc.message)}")
    except requests.RequestException as exc:  # e.g. an artifact upload through the server failed
        return _fail(f"MLflow request failed: {_first_line(str(exc))}")
    print(f"trainer: {outcome.message}", flush=True)
    return 0


@contextmanager
def _using_tracking_uri(uri: str) -> Iterator[None]:
    """Point the fluent API at `uri`, then restore what was there (run() may be called in-process)."""
    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)


def _unchanged(name: str, alias: str, holder: KnownVersion) -> TrainingOutcome:
    message = (
        f"nothing registered: alias '{alias}' already points at {name} version {holder.version}, "
        f"trained on the same data and parameters (fingerprint {(holder.fingerprint or '')[:12]})"
    )
    return TrainingOutcome(False, holder.version, False, message, dict(holder.metrics))


def _already_registered(
    client: MlflowClient, name: str, alias: str, same: KnownVersion, holder: KnownVersion | None
) -> TrainingOutcome:
    """Register nothing; only when no version holds the alias does the identical version get it."""
    message = (
        f"nothing registered: {name} version {same.version} was trained on the same data and parameters "
        f"(fingerprint {(same.fingerprint or '')[:12]}); "
    )
    if holder is not None:
        return TrainingOutcome(False, same.version, False, message + f"alias '{alias}' stays on version "
                               f"{holder.version}", dict(same.metrics))
    client.set_registered_model_alias(name, alias, same.version)
    return TrainingOutcome(False, same.version, True, message + f"alias '{alias}' set to it (no version "
                           "held it)", dict(same.metrics))


def _fail(reason: str) -> int:
    print(f"trainer: failed: {reason}", file=sys.stderr, flush=True)
    return 1


def _first_line(text: str) -> str:
    lines = str(text).strip().splitlines()
    return lines[0][:300] if lines else "unknown error"
