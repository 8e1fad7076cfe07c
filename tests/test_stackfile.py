"""docker-stack.yaml is generated from docker-compose.yaml (`make stack-file`) and holds what Swarm needs here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_docker_stack_yaml_is_not_stale():
    result = subprocess.run([sys.executable, "swarm/stackfile.py", "--check"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_stack_file_is_what_swarm_needs_without_ipvs():
    stack = yaml.safe_load((ROOT / "docker-stack.yaml").read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    services = stack["services"]
    assert set(services) == set(compose["services"])
    for name, svc in services.items():
        assert svc["deploy"]["endpoint_mode"] == "dnsrr", name
        assert not {"build", "depends_on", "pull_policy", "restart"} & set(svc), name
        assert all(p["mode"] == "host" for p in svc.get("ports", [])), name
    for name in ("postgres", "minio", "minio-bucket", "mlflow", "trainer", "lb"):
        assert services[name]["deploy"]["placement"]["constraints"] == ["node.role == manager"]
    for name in ("trainer", "minio-bucket"):
        assert services[name]["deploy"]["restart_policy"]["condition"] == "on-failure"
    api = services["api"]["deploy"]
    assert api["replicas"] == "${API_REPLICAS:-1}"
    assert api["resources"]["limits"] == {"cpus": "${API_CPUS:-1.0}", "memory": "${API_MEMORY:-512M}"}
    assert api["update_config"]["order"] == "start-first"
    assert {c["target"] for c in services["lb"]["configs"]} == {"/etc/nginx/nginx.conf"}


def test_stack_file_passes_the_docker_cli_v3_loader():
    result = subprocess.run(["docker", "stack", "config", "-c", "docker-stack.yaml"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "API_REPLICAS": "3"})
    assert result.returncode == 0, result.stderr
    assert "replicas: 3" in result.stdout
