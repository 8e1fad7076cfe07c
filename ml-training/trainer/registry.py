"""Model registry: find the alias holder or an identical version, register a version, move the alias only if not
worse."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from trainer.data import FEATURES
from trainer.fingerprint import FINGERPRINT_TAG

log = logging.getLogger(__name__)

RANKING = ("accuracy", "f1_macro")  # compared in this order; ties go to the newer version
MODEL_DESCRIPTION = (
    "Palmer penguins species classifier: scikit-learn Pipeline (one-hot island and sex, scaled "
    f"numeric features, LogisticRegression). Input columns: {', '.join(FEATURES)}. "
    "Output: species (Adelie, Chinstrap, Gentoo). Trained and registered by ml-training (trainer)."
)
MODEL_TAGS = {"dataset": "palmerpenguins", "framework": "scikit-learn", "task": "classification"}


@dataclass(frozen=True)
class KnownVersion:
    """A registered version (the alias holder, or one trained identically), with what the trainer compares."""

    version: str
    run_id: str | None
    fingerprint: str | None
    metrics: dict[str, float] = field(default_factory=dict)


def find_alias_holder(client: MlflowClient, name: str, alias: str) -> KnownVersion | None:
    """The version holding `alias`, or None when the model or the alias does not exist yet."""
    try:
        version = client.get_registered_model(name).aliases.get(alias)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    if version is None:
        return None
    return _known(client, client.get_model_version(name, str(version)))


def find_same_training(client: MlflowClient, name: str, fingerprint: str) -> KnownVersion | None:
    """The newest version registered from exactly this data and these parameters, or None."""
    try:
        found = client.search_model_versions(f"name='{name}' and tags.{FINGERPRINT_TAG}='{fingerprint}'")
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    newest = max(found, key=lambda v: int(v.version), default=None)
    return _known(client, newest) if newest is not None else None


def _known(client: MlflowClient, model_version: ModelVersion) -> KnownVersion:
    run_tags, metrics = _run_tags_and_metrics(client, model_version.run_id)
    fingerprint = model_version.tags.get(FINGERPRINT_TAG) or run_tags.get(FINGERPRINT_TAG)
    return KnownVersion(str(model_version.version), model_version.run_id, fingerprint, metrics)


def ensure_registered_model(client: MlflowClient, name: str) -> None:
    """Create the registered model with a description and tags unless it exists."""
    try:
        client.get_registered_model(name)
        return
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    try:
        client.create_registered_model(name, tags=MODEL_TAGS, description=MODEL_DESCRIPTION)
    except MlflowException as exc:  # created concurrently by another trainer
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def register_version(
    client: MlflowClient, name: str, model_uri: str, fingerprint: str, metrics: Mapping[str, float]
) -> ModelVersion:
    """Register `model_uri` as a new version tagged with its fingerprint and headline metrics."""
    ensure_registered_model(client, name)
    tags = {FINGERPRINT_TAG: fingerprint, **{key: f"{metrics[key]:.4f}" for key in RANKING}}
    model_version = mlflow.register_model(model_uri, name, tags=tags)
    description = (
        f"accuracy {metrics['accuracy']:.4f}, f1_macro {metrics['f1_macro']:.4f} on the stratified "
        f"holdout; {FINGERPRINT_TAG} {fingerprint[:12]}"
    )
    client.update_model_version(name, model_version.version, description=description)
    return model_version


def is_at_least_as_good(new: Mapping[str, float], old: Mapping[str, float]) -> bool:
    """Compare by accuracy, then f1_macro; a metric the old version lacks counts as the worst."""
    new_key = tuple(new.get(key, float("-inf")) for key in RANKING)
    old_key = tuple(old.get(key, float("-inf")) for key in RANKING)
    return new_key >= old_key


def apply_alias_rule(
    client: MlflowClient, name: str, alias: str, version: str, metrics: Mapping[str, float]
) -> tuple[bool, str]:
    """Point `alias` at `version` if it is at least as good as the current holder; say what happened."""
    holder = find_alias_holder(client, name, alias)
    if holder is not None and not is_at_least_as_good(metrics, holder.metrics):
        kept = f"alias '{alias}' stays on version {holder.version} ({_scores(holder.metrics)}), which is better"
        return False, kept
    client.set_registered_model_alias(name, alias, version)
    if holder is None:
        return True, f"alias '{alias}' set (no version held it before)"
    return True, f"alias '{alias}' moved from version {holder.version} ({_scores(holder.metrics)})"


def _run_tags_and_metrics(client: MlflowClient, run_id: str | None) -> tuple[dict[str, str], dict[str, float]]:
    if not run_id:
        return {}, {}
    try:
        data = client.get_run(run_id).data
    except MlflowException as exc:
        log.warning("run %s of the alias holder is not readable: %s", run_id, exc.message)
        return {}, {}
    return dict(data.tags), dict(data.metrics)


def _scores(metrics: Mapping[str, float]) -> str:
    parts = [f"{key} {metrics[key]:.4f}" for key in RANKING if key in metrics]
    return ", ".join(parts) or "no metrics"
