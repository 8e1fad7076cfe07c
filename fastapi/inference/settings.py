"""Every knob of the service, read once from the environment."""

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_ignore_empty=True, protected_namespaces=())

    mlflow_tracking_uri: str = Field("http://mlflow:5000", pattern=r"^https?://")  # the server's REST API
    mlflow_tracking_token: SecretStr | None = None
    mlflow_tracking_username: str | None = None
    mlflow_tracking_password: SecretStr | None = None
    mlflow_tracking_server_cert_path: str | None = None  # a CA bundle for an https tracking URI
    mlflow_tracking_insecure_tls: bool = False
    mlflow_http_timeout_s: float = Field(20.0, gt=0)
    # As mlflow.sklearn.load_model: loading a model (pickle or skops) may run code from the artifact.
    mlflow_allow_pickle_deserialization: bool = True
    model_name: str = "penguins-classifier"
    model_alias: str = "production"
    model_reload_interval_s: float = Field(30.0, gt=0)
    model_load_timeout_s: float = Field(120.0, gt=0)
    max_batch: int = Field(1000, ge=1)
    max_body_bytes: int = Field(1_048_576, ge=1024)
    web_concurrency: int = Field(1, ge=1)
    # Where server processes share their metrics; `python -m inference` makes one when WEB_CONCURRENCY > 1.
    metrics_dir: str | None = None
    # The container's cgroup (v2, or v1 controller folders), read at every /metrics scrape.
    cgroup_root: str = "/sys/fs/cgroup"
    api_host: str = "0.0.0.0"
    api_port: int = Field(8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    access_log: bool = False

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value
