import pytest
from pydantic import ValidationError

from trainer.settings import Settings

ENV_NAMES = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_NAME",
    "MODEL_NAME",
    "MODEL_ALIAS",
    "TRAIN_FORCE",
    "MLFLOW_WAIT_TIMEOUT_S",
    "TRAIN_C",
    "TRAIN_MAX_ITER",
    "TRAIN_TEST_SIZE",
    "TRAIN_SEED",
)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean_env):
    settings = Settings()
    assert settings.model_name == "penguins-classifier" and settings.model_alias == "production"
    assert settings.mlflow_experiment_name == "penguins"
    assert settings.train_force is False and settings.mlflow_wait_timeout_s == 120
    assert settings.hyperparams() == {"C": 1.0, "max_iter": 1000, "test_size": 0.2, "seed": 42}


def test_environment_overrides_and_empty_values_are_ignored(clean_env):
    clean_env.setenv("TRAIN_FORCE", "true")
    clean_env.setenv("MLFLOW_WAIT_TIMEOUT_S", "2.5")
    clean_env.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000")
    clean_env.setenv("TRAIN_C", "0.3")
    clean_env.setenv("MODEL_ALIAS", "")
    settings = Settings()
    assert settings.train_force is True and settings.mlflow_wait_timeout_s == 2.5
    assert settings.mlflow_tracking_uri == "http://mlflow:5000" and settings.train_c == 0.3
    assert settings.model_alias == "production"


@pytest.mark.parametrize(
    ("name", "value"), [("TRAIN_C", "0"), ("TRAIN_TEST_SIZE", "1.5"), ("TRAIN_FORCE", "maybe"), ("MODEL_NAME", "it's")]
)
def test_invalid_values_are_rejected(clean_env, name, value):
    clean_env.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()
