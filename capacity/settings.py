"""Every knob of the capacity runner that is not part of a grid, read once from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True, protected_namespaces=())

    # Where runs are written: results/<timestamp>/ unless --out says otherwise.
    results_dir: Path = Field(Path("results"), validation_alias="CAPACITY_RESULTS_DIR")

    # The registry the API processes of the native backend load the model from (compose: its own mlflow).
    mlflow_tracking_uri: str = "http://127.0.0.1:5000"
    model_name: str = "penguins-classifier"
    model_alias: str = "production"

    # Docker backend: the lb's host port and address, the two compose files, how long a cell may take to start.
    api_port: int = Field(8000, ge=1, le=65535)
    host_bind: str = "127.0.0.1"
    compose_file: Path = Field(Path("docker-compose.yaml"), validation_alias="CAPACITY_COMPOSE_FILE")
    locust_compose_file: Path = Field(Path("docker-compose-locust.yaml"),
                                      validation_alias="CAPACITY_LOCUST_COMPOSE_FILE")
    ready_timeout_s: float = Field(240.0, gt=0, validation_alias="CAPACITY_READY_TIMEOUT_S")

    # Resource samples (docker stats, /proc) every this many seconds during a run.
    sample_interval_s: float = Field(2.0, gt=0, validation_alias="CAPACITY_SAMPLE_INTERVAL_S")

    # Native backend only: the round-robin locustfile reads the API replicas' URLs from here.
    targets: str = Field("", validation_alias="CAPACITY_TARGETS")

    @property
    def target_list(self) -> list[str]:
        return [t.strip() for t in self.targets.split(",") if t.strip()]
