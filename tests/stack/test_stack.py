"""The real compose stack, scenario by scenario (issue 6). Tests run in file order and share one stack."""

from __future__ import annotations

import re
import subprocess
import time

import pytest
from compose import Compose, http, inspect, wait_until
from locustrun import LocustRun

from labtools import wait_http

ROWS = [  # real palmerpenguins rows
    ({"bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181.0, "body_mass_g": 3750.0,
      "year": 2007, "island": "Torgersen", "sex": "male"}, "Adelie", 1),
    ({"bill_length_mm": 46.5, "bill_depth_mm": 17.9, "flipper_length_mm": 192.0, "body_mass_g": 3500.0,
      "year": 2007, "island": "Dream", "sex": "female"}, "Chinstrap", 2),
    ({"bill_length_mm": 46.1, "bill_depth_mm": 13.2, "flipper_length_mm": 211.0, "body_mass_g": 4500.0,
      "year": 2007, "island": "Biscoe", "sex": "female"}, "Gentoo", 3),
]
MODEL_NAME, MODEL_ALIAS = "penguins-classifier", "production"


def legacy(row: dict) -> dict:
    out = {k: v for k, v in row.items() if k not in ("island", "sex")}
    out.update({f"island_{i}": int(row["island"] == i) for i in ("Biscoe", "Dream", "Torgersen")})
    out.update({f"sex_{s}": int(row["sex"] == s) for s in ("female", "male")})
    return out


def served_version(api_url: str) -> str | None:
    status, body = http(f"{api_url}/model-info")
    return str(body["version"]) if status == 200 else None


def registry(mlflow_url: str):
    from mlflow import MlflowClient

    return MlflowClient(mlflow_url)


def retrain(compose: Compose) -> str:
    result = compose.run("run", "--rm", "--no-deps", "-e", "TRAIN_FORCE=true", "trainer", timeout=600)
    return result.stdout + result.stderr


# 1. From nothing: trainer done, API ready through the lb, correct answers, registry and bucket filled.
def test_trainer_exited_zero(stack: Compose):
    assert stack.exit_code("trainer") == 0, stack.logs("trainer")


def test_ready_through_lb(api_url):
    assert http(f"{api_url}/ready")[0] == 200


@pytest.mark.parametrize(("row", "species", "species_id"), ROWS)
def test_known_rows_both_forms(api_url, row, species, species_id):
    status, body = http(f"{api_url}/predict", row)
    assert status == 200, body
    assert (body["species"], body["species_id"]) == (species, species_id)
    status, body = http(f"{api_url}/predict", legacy(row))
    assert status == 200, body
    assert (body["species_name"], body["species_id"]) == (species, species_id)


def test_model_and_alias_in_registry(mlflow_url, api_url):
    version = registry(mlflow_url).get_model_version_by_alias(MODEL_NAME, MODEL_ALIAS)
    assert version.version == served_version(api_url)


def test_model_files_in_bucket(stack: Compose):
    listing = bucket_listing(stack)
    assert re.search(r"MLmodel", listing), listing[-2000:]
    assert "confusion_matrix.png" in listing, listing[-2000:]


def bucket_listing(compose: Compose) -> str:
    """`mc ls -r` inside the minio container, with the root credentials it already has."""
    script = ('export MC_HOST_lab="http://$MINIO_ROOT_USER:$MINIO_ROOT_PASSWORD@localhost:9000"; '
              'mc ls -r "lab/$MLFLOW_BUCKET" 2>&1 || mc ls -r lab/ 2>&1')
    return compose.run("exec", "-T", "-e", f"MLFLOW_BUCKET={compose.env.get('MLFLOW_BUCKET', 'mlflow')}",
                       "minio", "sh", "-c", script).stdout


# 2. Locust from docker-compose-locust.yaml through the lb.
def test_locust_headless_zero_failures(stack: Compose):
    run = LocustRun(stack, "ci-locust", users=500, spawn_rate=100, run_time="30s").start()
    summary = run.wait()
    assert summary["requests"] > 0, summary
    assert summary["failures"] == 0, summary
    assert run.files_exist(), list(run.results_dir.iterdir())


# 3. Three replicas share the load.
def test_replicas_share_load(stack: Compose, api_url):
    stack.run("up", "-d", "--wait", "--no-deps", "--scale", "api=3", "api", env={"API_REPLICAS": "3"})
    stack.run("up", "-d", "--wait", "--no-deps", "--force-recreate", "lb", env={"API_REPLICAS": "3"})
    before = replica_counts(stack)
    for i in range(600):
        assert http(f"{api_url}/predict", ROWS[i % 3][0])[0] == 200
    after = replica_counts(stack)
    served = [after[c] - before.get(c, 0) for c in after]
    assert len(served) == 3 and all(n >= 100 for n in served), served
    stack.run("up", "-d", "--wait", "--no-deps", "--scale", "api=1", "api")
    stack.run("up", "-d", "--wait", "--no-deps", "--force-recreate", "lb")


def replica_counts(compose: Compose) -> dict[str, float]:
    """Successful /predict requests counted by each replica's own /metrics."""
    code = ("import urllib.request,re;t=urllib.request.urlopen('http://127.0.0.1:8000/metrics').read().decode();"
            "print(sum(float(m) for m in re.findall(r'^\\w*requests_total\\{[^}]*/predict\"[^}]*\"2\\d\\d\"[^}]*\\} "
            "([0-9.e+]+)$', t, re.M)))")
    counts = {}
    for cid in compose.container_ids("api"):  # by id: after earlier scale-downs compose's indexes can have gaps
        out = subprocess.run(["docker", "exec", cid, "python", "-c", code], capture_output=True, text=True,
                             timeout=60, check=True).stdout
        counts[cid] = float(out.strip() or 0)
    return counts


# 4. Promotion under load: zero failed requests while the API swaps to the new version.
def test_promotion_under_load(stack: Compose, api_url, mlflow_url):
    old = served_version(api_url)
    run = LocustRun(stack, "ci-promotion", users=200, spawn_rate=100, run_time="45s").start()
    time.sleep(8)
    retrain(stack)
    new = registry(mlflow_url).get_model_version_by_alias(MODEL_NAME, MODEL_ALIAS).version
    assert new != old
    wait_until(lambda: served_version(api_url) == new, 30, f"API serving version {new}")
    summary = run.wait()
    assert summary["failures"] == 0 and summary["requests"] > 0, summary


# 5. Backing services blip during load: answers keep coming from memory; a later promotion is picked up.
def test_backing_services_blip(stack: Compose, api_url, mlflow_url):
    run = LocustRun(stack, "ci-blips", users=200, spawn_rate=100, run_time="50s").start()
    for service in ("mlflow", "postgres", "minio"):
        stack.run("stop", service, timeout=120)
        time.sleep(4)
        assert http(f"{api_url}/predict", ROWS[0][0])[0] == 200
        assert http(f"{api_url}/ready")[0] == 200
    for service in ("postgres", "minio", "mlflow"):
        stack.run("start", service, timeout=180)
    stack.run("up", "-d", "--wait", "--no-deps", "postgres", "minio", "mlflow", timeout=300)
    summary = run.wait()
    assert summary["failures"] == 0 and summary["requests"] > 0, summary
    retrain(stack)
    new = registry(mlflow_url).get_model_version_by_alias(MODEL_NAME, MODEL_ALIAS).version
    wait_until(lambda: served_version(api_url) == new, 60, f"API serving version {new} after the blips")


# 6. The API started while MLflow is down becomes ready by itself once MLflow is back.
def test_api_recovers_when_mlflow_returns(stack: Compose, api_url):
    stack.run("stop", "mlflow", timeout=120)
    stack.run("up", "-d", "--no-deps", "--force-recreate", "api", timeout=300)
    time.sleep(5)
    assert http(f"{api_url}/ready")[0] != 200
    assert http(f"{api_url}/health")[0] == 200
    stack.run("start", "mlflow", timeout=180)
    wait_http(f"{api_url}/ready", 180, interval=2)  # by itself, once MLflow is back


# 7. down + up keeps registry, alias, artifacts; the trainer registers nothing new.
def test_restart_keeps_everything(stack: Compose, api_url, mlflow_url):
    versions = sorted(v.version for v in registry(mlflow_url).search_model_versions(f"name='{MODEL_NAME}'"))
    alias = registry(mlflow_url).get_model_version_by_alias(MODEL_NAME, MODEL_ALIAS).version
    stack.run("down", timeout=300)
    stack.run("up", "-d", "--wait", "--wait-timeout", "600", timeout=900)
    assert stack.exit_code("trainer") == 0
    after = sorted(v.version for v in registry(mlflow_url).search_model_versions(f"name='{MODEL_NAME}'"))
    assert after == versions, stack.logs("trainer")
    assert registry(mlflow_url).get_model_version_by_alias(MODEL_NAME, MODEL_ALIAS).version == alias
    assert served_version(api_url) == alias
    assert "MLmodel" in bucket_listing(stack)


# 8. The env knobs become real container limits.
def test_resource_limits_apply(stack: Compose):
    env = {"API_CPUS": "0.5", "API_MEMORY": "300M"}
    stack.run("up", "-d", "--wait", "--no-deps", "--force-recreate", "api", env=env, timeout=300)
    limits = [inspect(cid, "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}") for cid in stack.container_ids("api")]
    assert limits and all(lim.split() == [str(int(0.5e9)), str(300 * 1024 * 1024)] for lim in limits), limits
