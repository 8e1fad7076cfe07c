"""The stack under test: the real docker-compose.yaml, brought up from nothing once, torn down with -v at the end."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from compose import Compose

from labtools import free_port

LOCUST_FILES = ("docker-compose-locust.yaml",)
SERVICES = ("postgres", "minio", "minio-bucket", "mlflow", "trainer", "api", "lb")


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="session")
def compose() -> Compose:
    if shutil.which("docker") is None or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.fail("no Docker engine: run ../shared/offline-docker/setup first (CI does)")
    env = {
        "API_PORT": str(free_port()), "MLFLOW_PORT": str(free_port()), "LOCUST_PORT": str(free_port()),
        "MODEL_RELOAD_INTERVAL_S": "2", "API_REPLICAS": "1", "API_CPUS": "1.0", "API_MEMORY": "512M",
    }
    return Compose(env)


@pytest.fixture(scope="session")
def stack(compose: Compose, request):
    compose.run("down", "-v", "--remove-orphans", check=False, files=LOCUST_FILES)
    compose.run("down", "-v", "--remove-orphans", check=False)
    try:
        compose.run("up", "-d", "--build", "--wait", "--wait-timeout", "600", timeout=1500)
    except Exception:
        print(compose.logs(*SERVICES, tail=60))
        raise
    yield compose
    if request.session.testsfailed:
        print(compose.logs(*SERVICES, tail=80))
    compose.run("down", "-v", "--remove-orphans", check=False, timeout=180, files=LOCUST_FILES)
    compose.run("down", "-v", "--remove-orphans", check=False, timeout=300)


@pytest.fixture(scope="session")
def api_url(stack: Compose) -> str:
    return f"http://127.0.0.1:{stack.env['API_PORT']}"


@pytest.fixture(scope="session")
def mlflow_url(stack: Compose) -> str:
    return f"http://127.0.0.1:{stack.env['MLFLOW_PORT']}"
