"""The real trainer against real servers: `mlflow server` (PostgreSQL backend) with artifacts in S3."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import mlflow
import mlflow.sklearn
import pytest
from mlflow import MlflowClient
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from labtools import QUIET_ENV, free_port
from trainer.data import SPECIES, load_data
from trainer.fingerprint import FINGERPRINT_TAG
from trainer.main import TrainingOutcome, run
from trainer.settings import Settings
from trainer.wait import MlflowUnavailableError

pytestmark = pytest.mark.integration

ML_TRAINING = Path(__file__).resolve().parents[1]
TRAINER_ENV = (
    "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME", "MODEL_NAME", "MODEL_ALIAS", "TRAIN_FORCE",
    "MLFLOW_WAIT_TIMEOUT_S", "TRAIN_C", "TRAIN_MAX_ITER", "TRAIN_TEST_SIZE", "TRAIN_SEED",
)  # fmt: skip


def run_trainer_process(**env: str) -> tuple[subprocess.CompletedProcess, float]:
    """`python -m trainer` as the image runs it, configured by environment only; returns (result, seconds)."""
    base = {key: value for key, value in os.environ.items() if key not in TRAINER_ENV}
    full_env = {**base, **QUIET_ENV, "PYTHONPATH": str(ML_TRAINING), **env}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "trainer"], env=full_env, cwd=ML_TRAINING, capture_output=True, text=True, timeout=300
    )
    return result, time.monotonic() - started


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    """A model and experiment of our own, so the shared server's `penguins-classifier` stays untouched."""
    suffix = uuid.uuid4().hex[:8]
    return {"MODEL_NAME": f"trainer-it-{suffix}", "MLFLOW_EXPERIMENT_NAME": f"trainer-it-{suffix}"}


@pytest.fixture(scope="module")
def client(mlflow_server) -> MlflowClient:
    return MlflowClient(mlflow_server.tracking_uri)


@pytest.fixture(scope="module")
def train_in_process(mlflow_server, names):
    """run(settings) in this process, as the fixtures may call it."""

    def _run(**overrides: object) -> TrainingOutcome:
        settings = Settings(
            mlflow_tracking_uri=mlflow_server.tracking_uri,
            model_name=names["MODEL_NAME"],
            mlflow_experiment_name=names["MLFLOW_EXPERIMENT_NAME"],
            model_alias="production",
            mlflow_wait_timeout_s=30,
            **{"train_force": False, "train_c": 1.0, **overrides},
        )
        return run(settings)

    with pytest.MonkeyPatch.context() as patch:
        for key, value in QUIET_ENV.items():
            patch.setenv(key, value)
        yield _run


@pytest.fixture(scope="module")
def first_run(mlflow_server, names):
    result, _ = run_trainer_process(MLFLOW_TRACKING_URI=mlflow_server.tracking_uri, **names)
    assert result.returncode == 0, f"trainer failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def second_run(first_run, train_in_process) -> TrainingOutcome:
    return train_in_process()


@pytest.fixture(scope="module")
def forced_run(second_run, train_in_process) -> TrainingOutcome:
    return train_in_process(train_force=True)


@pytest.fixture(scope="module")
def worse_forced_run(forced_run, train_in_process) -> TrainingOutcome:
    return train_in_process(train_force=True, train_c=0.001)


@pytest.fixture(scope="module")
def rerun_after_worse(worse_forced_run, train_in_process) -> TrainingOutcome:
    return train_in_process()


@pytest.fixture(scope="module")
def plain_rerun_with_the_worse_parameters(rerun_after_worse, train_in_process) -> TrainingOutcome:
    """What every `docker compose up` would do with TRAIN_C=0.001 left in .env."""
    return train_in_process(train_c=0.001)


@pytest.fixture(scope="module")
def rerun_without_an_alias(plain_rerun_with_the_worse_parameters, train_in_process, client, names):
    client.delete_registered_model_alias(names["MODEL_NAME"], "production")
    return train_in_process()


def test_first_run_registers_version_1_and_sets_the_alias(first_run, client, names):
    assert first_run.stdout.strip().splitlines()[-1].startswith(f"trainer: registered {names['MODEL_NAME']} version 1")
    holder = client.get_model_version_by_alias(names["MODEL_NAME"], "production")
    assert holder.version == "1"
    run_data = client.get_run(holder.run_id).data
    assert len(run_data.tags[FINGERPRINT_TAG]) == 64 and holder.tags[FINGERPRINT_TAG] == run_data.tags[FINGERPRINT_TAG]
    assert {"accuracy", "f1_macro", *(f"f1_{s}" for s in SPECIES)} <= set(run_data.metrics)
    assert {"C", "max_iter", "test_size", "seed", "n_train", "n_test"} <= set(run_data.params)
    assert client.get_registered_model(names["MODEL_NAME"]).description


def test_model_files_and_confusion_matrix_are_in_the_bucket(first_run, client, names, s3_server):
    holder = client.get_model_version_by_alias(names["MODEL_NAME"], "production")
    keys = s3_server.keys()
    run_prefix = client.get_run(holder.run_id).info.artifact_uri.split(":/", 1)[1].strip("/")
    model_prefix = (
        client.get_logged_model(holder.model_id or holder.source.removeprefix("models:/"))
        .artifact_location.split(":/", 1)[1]
        .strip("/")
    )
    for name in ("confusion_matrix.png", "classification_report.txt", "classification_report.json"):
        assert any(key.endswith(f"{run_prefix}/{name}") for key in keys), (name, keys)
    for name in ("MLmodel", "model.skops", "input_example.json", "requirements.txt"):
        assert any(key.endswith(f"{model_prefix}/{name}") for key in keys), (name, keys)


def test_served_model_reaches_the_accuracy_bar_on_the_holdout(first_run, client, names):
    holder = client.get_model_version_by_alias(names["MODEL_NAME"], "production")
    assert client.get_run(holder.run_id).data.metrics["accuracy"] >= 0.95
    X, y = load_data()
    _, X_test, _, y_test = train_test_split(X, y, test_size=0.2, random_state=42, stratify=y)
    previous = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    mlflow.set_tracking_uri(client.tracking_uri)
    try:
        model = mlflow.sklearn.load_model(f"models:/{names['MODEL_NAME']}@production")
    finally:
        mlflow.set_tracking_uri(previous)
    assert tuple(model.classes_) == SPECIES
    assert accuracy_score(y_test, model.predict(X_test)) >= 0.95


def test_second_plain_run_registers_nothing(second_run, client, names):
    assert (second_run.registered, second_run.version, second_run.alias_moved) == (False, "1", False)
    assert "nothing registered" in second_run.message and "same data and parameters" in second_run.message
    assert second_run.metrics["accuracy"] >= 0.95
    assert [v.version for v in client.search_model_versions(f"name='{names['MODEL_NAME']}'")] == ["1"]


def test_forced_run_registers_version_2_and_an_equal_model_takes_the_alias(forced_run, client, names):
    assert (forced_run.registered, forced_run.version, forced_run.alias_moved) == (True, "2", True)
    assert "moved from version 1" in forced_run.message
    assert client.get_model_version_by_alias(names["MODEL_NAME"], "production").version == "2"


def test_forced_worse_model_is_registered_but_the_alias_stays(worse_forced_run, client, names):
    assert (worse_forced_run.registered, worse_forced_run.version) == (True, "3")
    assert worse_forced_run.alias_moved is False and worse_forced_run.metrics["accuracy"] < 0.95
    assert "stays on version 2" in worse_forced_run.message
    assert client.get_model_version_by_alias(names["MODEL_NAME"], "production").version == "2"


def test_plain_rerun_after_that_still_registers_nothing(rerun_after_worse):
    assert (rerun_after_worse.registered, rerun_after_worse.version) == (False, "2")


def test_plain_rerun_of_the_worse_parameters_registers_no_duplicate(plain_rerun_with_the_worse_parameters,
                                                                     client, names):
    outcome = plain_rerun_with_the_worse_parameters
    assert (outcome.registered, outcome.version, outcome.alias_moved) == (False, "3", False)
    assert "version 3 was trained on the same data and parameters" in outcome.message
    assert "stays on version 2" in outcome.message and outcome.metrics["accuracy"] < 0.95
    assert len(client.search_model_versions(f"name='{names['MODEL_NAME']}'")) == 3


def test_an_identical_version_gets_a_missing_alias_instead_of_a_duplicate(rerun_without_an_alias, client, names):
    assert (rerun_without_an_alias.registered, rerun_without_an_alias.version) == (False, "2")
    assert rerun_without_an_alias.alias_moved and "set to it" in rerun_without_an_alias.message
    assert client.get_model_version_by_alias(names["MODEL_NAME"], "production").version == "2"
    assert len(client.search_model_versions(f"name='{names['MODEL_NAME']}'")) == 3


def test_unreachable_mlflow_exits_non_zero_with_a_clear_message_within_budget():
    uri = f"http://127.0.0.1:{free_port()}"
    result, _ = run_trainer_process(MLFLOW_TRACKING_URI=uri, MLFLOW_WAIT_TIMEOUT_S="2")
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"trainer: failed: MLflow at {uri} did not answer within 2s"), result.stderr
    assert "Traceback" not in result.stderr
    started = time.monotonic()
    with pytest.raises(MlflowUnavailableError, match="did not answer within 1.5s"):
        run(Settings(mlflow_tracking_uri=uri, mlflow_wait_timeout_s=1.5))
    assert time.monotonic() - started < 1.5 + 1.0
