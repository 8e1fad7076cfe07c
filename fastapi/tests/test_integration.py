"""The real API process against a real `mlflow server` with the real trainer's model."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import msgspec
import numpy as np
import psutil
import pytest

import realservers
from inference.features import FEATURES, ISLANDS, NUMERIC_FEATURES, SEXES, SPECIES
from inference.schemas import NATURAL_EXAMPLE

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ROW = dict(NATURAL_EXAMPLE)  # the row the OpenAPI example shows


def rows(X) -> list[dict]:
    return [{**row, "year": int(row["year"])} for row in X.to_dict("records")]


def test_ready_and_serving_the_registered_version(api_server, trained_model):
    ready = httpx.get(f"{api_server.base_url}/ready").json()
    assert ready["model"] == {"name": trained_model.name, "version": trained_model.version,
                              "alias": trained_model.alias}
    info = httpx.get(f"{api_server.base_url}/model-info").json()
    assert info["predictor"] == "folded" and info["run_id"] and 0.9 < info["metrics"]["accuracy"] <= 1


def test_parity_with_the_registered_model_on_every_row(api_server, trained_model, dataset):
    import mlflow.sklearn

    mlflow.set_tracking_uri(trained_model.tracking_uri)
    model = mlflow.sklearn.load_model(f"models:/{trained_model.name}@{trained_model.alias}")
    X, _ = dataset
    response = httpx.post(f"{api_server.base_url}/predict/batch", json={"instances": rows(X)}, timeout=30)
    assert response.status_code == 200
    got = np.array([[p["probabilities"][s] for s in SPECIES] for p in response.json()["predictions"]])
    assert np.max(np.abs(got - model.predict_proba(X[list(FEATURES)]))) <= 1e-9
    single = httpx.post(f"{api_server.base_url}/predict", json=rows(X.iloc[:1])[0]).json()
    assert single["probabilities"] == pytest.approx(response.json()["predictions"][0]["probabilities"],
                                                    rel=0, abs=1e-12)


def test_both_forms_and_bad_input_over_http(api_server):
    url = f"{api_server.base_url}/predict"
    legacy = {k: ROW[k] for k in NUMERIC_FEATURES} | {f"island_{i}": int(i == "Torgersen") for i in ISLANDS}
    legacy |= {f"sex_{s}": int(s == "male") for s in SEXES}
    natural, old = httpx.post(url, json=ROW).json(), httpx.post(url, json=legacy).json()
    assert natural["species"] == old["species_name"] == "Adelie" and old["species_id"] == 1
    bad = [httpx.post(url, content=b"{", headers={"content-type": "application/json"}),
           httpx.post(url, content=b"x=1", headers={"content-type": "application/x-www-form-urlencoded"}),
           httpx.post(url, json={**ROW, "island": "Atlantis"}),
           httpx.post(url, content=b'{"bill_length_mm": NaN}', headers={"content-type": "application/json"}),
           httpx.post(url, content=b"x" * 100_000, headers={"content-type": "application/json"}),
           httpx.post(f"{url}/batch", json={"instances": [ROW] * 1001})]
    assert [r.status_code for r in bad] == [400, 415, 422, 422, 413, 413]


def test_schemathesis_finds_no_server_errors(api_server, tmp_path):
    cli = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [str(cli), "run", f"{api_server.base_url}/openapi.json", "--checks", "not_a_server_error",
         "--max-examples", "25", "--phases", "examples,coverage,fuzzing", "--mode", "all", "--seed", "7",
         "--request-timeout", "10", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]


def train(tracking_uri: str, name: str, **env: str) -> None:
    full_env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "MODEL_NAME": name, "MODEL_ALIAS": "production",
                "PYTHONPATH": str(ROOT / "ml-training"), **env}
    result = subprocess.run([sys.executable, "-m", "trainer"], env=full_env, capture_output=True, text=True,
                            timeout=300, cwd=ROOT / "ml-training")
    assert result.returncode == 0, result.stdout + result.stderr


def wait_version(base_url: str, version: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = httpx.get(f"{base_url}/ready")
        if response.status_code == 200 and response.json()["model"]["version"] == version:
            return
        time.sleep(0.25)
    raise AssertionError(f"not serving version {version}: {response.text}")


def test_started_before_any_model_then_ready_then_hot_reloads(mlflow_server, tmp_path):
    name = "penguins-late"
    api = realservers.start_api(tmp_path, mlflow_server.tracking_uri, wait_ready=False,
                                env={"MODEL_NAME": name, "MODEL_RELOAD_INTERVAL_S": "2",
                                     "MODEL_LOAD_TIMEOUT_S": "20"})
    try:
        assert httpx.get(f"{api.base_url}/health").status_code == 200
        not_ready = httpx.get(f"{api.base_url}/ready")
        assert not_ready.status_code == 503 and not_ready.json()["reason"]
        train(mlflow_server.tracking_uri, name)
        wait_version(api.base_url, "1", timeout=90)
        train(mlflow_server.tracking_uri, name, TRAIN_FORCE="true", TRAIN_C="0.5")
        from mlflow import MlflowClient

        MlflowClient(mlflow_server.tracking_uri).set_registered_model_alias(name, "production", "2")
        with httpx.Client(base_url=api.base_url) as client:
            deadline, versions = time.monotonic() + 60, set()
            while "2" not in versions and time.monotonic() < deadline:
                response = client.post("/predict", json=ROW)
                assert response.status_code == 200
                versions.add(response.json()["model"]["version"])
            assert versions == {"1", "2"}
        metrics = httpx.get(f"{api.base_url}/metrics").text
        assert "model_reloads_total 2.0" in metrics
    finally:
        api.stop()


def shared_stats(folder: Path) -> list[dict]:
    return [msgspec.msgpack.decode(path.read_bytes()) for path in folder.glob("*.msgpack")]


def test_two_processes_answer_every_scrape_with_the_same_totals(trained_model, tmp_path):
    """WEB_CONCURRENCY=2: both processes serve; whichever answers /metrics reports both processes' requests."""
    shared = tmp_path / "metrics"
    api = realservers.start_api(tmp_path, trained_model.tracking_uri,
                                env={"MODEL_NAME": trained_model.name, "MODEL_ALIAS": trained_model.alias,
                                     "WEB_CONCURRENCY": "2", "METRICS_DIR": str(shared)})
    try:
        deadline = time.monotonic() + 60  # the first process can be ready before the second
        while time.monotonic() < deadline and sum(p["model"] is not None for p in shared_stats(shared)) < 2:
            time.sleep(0.25)

        def post(_: int) -> int:
            return httpx.post(f"{api.base_url}/predict", json=ROW).status_code  # a new connection each

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(post, range(400))) == {200}
        time.sleep(1.5)  # each process shares its numbers every second
        pattern = r'http_requests_total\{method="POST",route="/predict",status="200"\} (\S+)'
        scrapes = [httpx.get(f"{api.base_url}/metrics").text for _ in range(8)]
        assert {float(re.search(pattern, text).group(1)) for text in scrapes} == {400.0}
        assert all(re.search(r'served_model_info\{[^}]*\} 2.0', text) for text in scrapes)
        served = [p["series"].get("/predict POST 200", [0])[0] for p in shared_stats(shared)]
        assert len(served) == 2 and sum(served) == 400 and min(served) > 0, served
        assert re.search(r"^http_requests_in_flight 1.0$", scrapes[0], re.M)  # the scrape itself; all idle
        server = [psutil.Process(api.pid), *(psutil.Process(p["pid"]) for p in shared_stats(shared))]
        rss = sum(p.memory_info().rss for p in server)  # uvicorn's supervisor and both workers
        cpu = sum(sum(p.cpu_times()[:2]) for p in server)
        found = {name: float(re.search(rf"^{name} (\S+)$", scrapes[-1], re.M).group(1))
                 for name in ("process_resident_memory_bytes", "process_cpu_seconds_total")}
        assert 0.8 * rss < found["process_resident_memory_bytes"] < 1.25 * rss, (found, rss)
        assert 0.8 * cpu < found["process_cpu_seconds_total"] <= cpu, (found, cpu)
    finally:
        api.stop()
