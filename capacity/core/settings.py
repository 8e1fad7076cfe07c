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

    # Docker backend: the lb's host port and address, the compose files, how long a cell may take to start.
    api_port: int = Field(8000, ge=1, le=65535)
    host_bind: str = "127.0.0.1"
    compose_file: Path = Field(Path("docker-compose.yaml"), validation_alias="CAPACITY_COMPOSE_FILE")
    locust_compose_file: Path = Field(Path("docker-compose-locust.yaml"),
                                      validation_alias="CAPACITY_LOCUST_COMPOSE_FILE")
    wrk_compose_file: Path = Field(Path("docker-compose-wrk.yaml"), validation_alias="CAPACITY_WRK_COMPOSE_FILE")
    ready_timeout_s: float = Field(240.0, gt=0, validation_alias="CAPACITY_READY_TIMEOUT_S")
    # Docker backend: api replicas load their model with this many CPUs, then `docker update` sets the cell's
    # limit before any load (the same cgroup quota). At 0.05 CPU a replica needs ~140 s to /ready, at 1 CPU ~10 s
    # (redline, 2026-11-30). Start-up at the cell's own limit is measured once per configuration (startup/).
    # 0: start at the cell's limit.
    boot_cpus: float = Field(1.0, ge=0, validation_alias="CAPACITY_BOOT_CPUS")

    # Resource samples (docker stats, /proc) every this many seconds during a run.
    sample_interval_s: float = Field(2.0, gt=0, validation_alias="CAPACITY_SAMPLE_INTERVAL_S")
    # Docker backend: seconds with no load after /ready, for each container's idle CPU (measure/cost.py); the
    # grid's load.warmup if longer. An idle replica uses ~0.001 core (results/idle).
    idle_baseline_s: float = Field(10.0, ge=0, validation_alias="CAPACITY_IDLE_BASELINE_S")

    # Swarm backend: the deployed stack's name, and a Docker endpoint per node other than the manager
    # ("unix:///run/offline-docker/hostb.sock,ssh://me@hostc", named hostb and hostc) to sample each task on its node.
    stack: str = Field("lab", validation_alias="CAPACITY_STACK")
    node_endpoints: str = Field("", validation_alias="CAPACITY_NODE_ENDPOINTS")

    # Native backend only: the round-robin locustfile reads the API replicas' URLs from here.
    targets: str = Field("", validation_alias="CAPACITY_TARGETS")

    @property
    def target_list(self) -> list[str]:
        return [t.strip() for t in self.targets.split(",") if t.strip()]
