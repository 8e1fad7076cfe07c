"""Every knob of our load test, read once from `LOCUST_*` environment variables.

Locust reads its own options (LOCUST_HOST, LOCUST_USERS, LOCUST_HEADLESS, LOCUST_CSV, ...) itself; the
fields below are ours. The few that share a Locust name (`host`, `master_node_*`, `mode_worker`) mean the
same thing and are read here only for defaults and the container healthcheck.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from loadtest.validity import Thresholds


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOCUST_", extra="ignore", env_ignore_empty=True)

    # Where the API is: the lb inside compose, the lb's host port outside. Locust's --host overrides it.
    host: str = "http://127.0.0.1:8000"

    # Think time per user, uniform in [wait_min, wait_max] seconds (the original assignment's 1-2.5 s).
    wait_min: float = Field(1.0, ge=0)
    wait_max: float = Field(2.5, ge=0)

    # Share of single predictions sent in the legacy one-hot form instead of the natural form.
    legacy_share: float = Field(0.2, ge=0, le=1)

    # Task weights: predictions are the bulk of the traffic.
    weight_predict: int = Field(8, ge=0)
    weight_batch: int = Field(1, ge=0)
    weight_model_info: int = Field(1, ge=0)
    batch_size: int = Field(10, ge=1, le=1000)

    # Load shape: "none" = plain -u/-r/-t; "ramp" = +step_users every step_duration_s up to max_users, hold.
    shape: Literal["none", "ramp"] = "none"
    step_users: int = Field(500, ge=1)
    step_duration_s: float = Field(60.0, gt=0)
    step_spawn_rate: float = Field(100.0, gt=0)
    max_users: int = Field(10_000, ge=1)
    hold_duration_s: float = Field(300.0, ge=0)

    # Validity (loadtest.validity): a run is INVALID when delivered < ratio x offered load, or a Locust process
    # uses > cpu % of one core, or waits for a CPU > runqueue % of the time.
    validity_min_delivered_ratio: float = Field(0.8, gt=0, le=1)
    validity_max_cpu_pct: float = Field(90.0, gt=0, le=100)
    validity_max_runqueue_pct: float = Field(20.0, gt=0, le=100)

    # Capacity tab (master): every address `api_service` resolves to is scraped at /metrics every
    # scrape_interval_s; the lb's nginx stub_status is read from lb_status_url.
    api_service: str = "api:8000"
    lb_status_url: str = "http://lb:8081/nginx_status"
    scrape_interval_s: float = Field(5.0, ge=1)
    scrape_timeout_s: float = Field(2.0, gt=0)

    # Locust's own names, used by the container healthcheck and entry point only.
    csv: str | None = None
    html: str | None = None
    mode_worker: bool = False
    master_node_host: str = "127.0.0.1"
    master_node_port: int = 5557

    @property
    def think_time_s(self) -> float:
        return (self.wait_min + self.wait_max) / 2

    def thresholds(self) -> Thresholds:
        return Thresholds(min_delivered_ratio=self.validity_min_delivered_ratio,
                          max_cpu_pct=self.validity_max_cpu_pct, max_runqueue_pct=self.validity_max_runqueue_pct)

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.wait_max < self.wait_min:
            raise ValueError("LOCUST_WAIT_MAX must be >= LOCUST_WAIT_MIN")
        if self.weight_predict + self.weight_batch + self.weight_model_info == 0:
            raise ValueError("at least one LOCUST_WEIGHT_* must be > 0")
        return self
