"""The trainer's configuration: environment variables -> one Settings object."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the trainer, read from the environment (names are case-insensitive)."""

    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True, protected_namespaces=())

    mlflow_tracking_uri: str = "http://localhost:5000"
    mlflow_experiment_name: str = "penguins"
    model_name: str = Field(default="penguins-classifier", pattern=r"^[^'\"]+$")  # quoted in registry searches
    model_alias: str = "production"
    train_force: bool = False
    mlflow_wait_timeout_s: float = Field(default=120.0, ge=0)

    train_c: float = Field(default=1.0, gt=0)
    train_max_iter: int = Field(default=1000, ge=1)
    train_test_size: float = Field(default=0.2, gt=0, lt=1)
    train_seed: int = 42

    def hyperparams(self) -> dict[str, float | int]:
        """The parameters that decide the trained model (they enter the fingerprint)."""
        return {
            "C": self.train_c,
            "max_iter": self.train_max_iter,
            "test_size": self.train_test_size,
            "seed": self.train_seed,
        }
