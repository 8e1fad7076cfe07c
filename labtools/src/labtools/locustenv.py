"""The environment of a headless Locust run: Locust's own LOCUST_* options plus the project locustfile's knobs
(locust/loadtest/settings.py), and what docker-compose-locust.yaml reads on top."""

from __future__ import annotations


def _text(value: float | int | str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def locust_env(*, users: int | None = None, spawn_rate: float | None = None, run_time: str | None = None,
               headless: bool = True, **knobs: float | int | str | bool) -> dict[str, str]:
    """LOCUST_HEADLESS/USERS/SPAWN_RATE/RUN_TIME (those given) and LOCUST_<KNOB> for each keyword,
    e.g. `locust_env(users=10, spawn_rate=5, run_time="30s", wait_min=0.5)`."""
    options = {"headless": headless, "users": users, "spawn_rate": spawn_rate, "run_time": run_time, **knobs}
    return {f"LOCUST_{name.upper()}": _text(value) for name, value in options.items() if value is not None}


def compose_locust_env(run_id: str, workers: int, **options: float | int | str | bool | None) -> dict[str, str]:
    """`locust_env(**options)` for docker-compose-locust.yaml: results under results/<run_id>/ and `workers`
    worker containers, all awaited by the master before the run starts."""
    return {**locust_env(**options), "RUN_ID": run_id, "LOCUST_WORKERS": str(workers),
            "LOCUST_EXPECT_WORKERS": str(workers)}
