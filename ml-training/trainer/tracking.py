"""Log one training run to MLflow: params, metrics, reports, confusion matrix and the model."""

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import version

import mlflow
import mlflow.sklearn
import sklearn
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from trainer.evaluate import classification_reports, confusion_matrix_figure
from trainer.fingerprint import FINGERPRINT_TAG
from trainer.train import TrainedModel

MODEL_ARTIFACT_NAME = "model"
# What loading the skops model needs; pinned from this environment instead of MLflow's slow (and, in
# a dev venv, noisy: pytest, rich) import-tracing inference. MLflow adds its own pin.
MODEL_REQUIREMENTS = ("scikit-learn", "skops", "numpy", "pandas", "scipy")


@dataclass(frozen=True)
class LoggedRun:
    """Where MLflow put the run and its model."""

    run_id: str
    model_uri: str


def log_training_run(
    client: MlflowClient,
    experiment_name: str,
    trained: TrainedModel,
    params: Mapping[str, object],
    fingerprint: str,
    *,
    forced: bool,
) -> LoggedRun:
    """Create a run in `experiment_name` and log everything about `trained` to it."""
    experiment_id = ensure_experiment(client, experiment_name)
    with mlflow.start_run(experiment_id=experiment_id, run_name="train-penguins") as run:
        mlflow.set_tags(
            {FINGERPRINT_TAG: fingerprint, "sklearn_version": sklearn.__version__, "forced": str(forced).lower()}
        )
        mlflow.log_params(
            {
                **params,
                "n_train": len(trained.X_train),
                "n_test": len(trained.X_test),
                "features": ",".join(trained.X_train.columns),
                "stratified": True,
            }
        )
        _log_reports(trained)
        model_info = mlflow.sklearn.log_model(
            trained.pipeline,
            name=MODEL_ARTIFACT_NAME,
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
            signature=infer_signature(trained.X_train, trained.pipeline.predict(trained.X_train)),
            input_example=trained.X_train.head(5),
            pip_requirements=[f"{dist}=={version(dist)}" for dist in MODEL_REQUIREMENTS],
        )
        mlflow.log_metrics(trained.metrics, model_id=model_info.model_id)
    return LoggedRun(run.info.run_id, model_info.model_uri)


def ensure_experiment(client: MlflowClient, name: str) -> str:
    """The id of experiment `name`, created if missing (without touching the fluent active experiment)."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    try:
        return client.create_experiment(name)
    except MlflowException as exc:  # created concurrently
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
        return client.get_experiment_by_name(name).experiment_id


def _log_reports(trained: TrainedModel) -> None:
    y_pred = trained.pipeline.predict(trained.X_test)
    text, as_dict = classification_reports(trained.y_test, y_pred)
    mlflow.log_text(text, "classification_report.txt")
    mlflow.log_dict(as_dict, "classification_report.json")
    mlflow.log_figure(confusion_matrix_figure(trained.y_test, y_pred), "confusion_matrix.png")
