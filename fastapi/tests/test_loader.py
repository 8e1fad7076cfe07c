"""Readiness before a model exists, retry, alias polling, failed reloads and the atomic swap."""

import asyncio
import itertools
import re
import time

import orjson
import pytest
from fastapi.testclient import TestClient

from inference.fastpath import PredictService
from inference.loader import ModelLoader, ModelState
from inference.main import create_app
from inference.metrics import Metrics
from inference.schemas import NATURAL_EXAMPLE

ROW = dict(NATURAL_EXAMPLE)  # the row the OpenAPI example shows


def test_alive_but_not_ready_until_a_model_loads(kit):
    with TestClient(kit.never_loading_app("mlflow unreachable")) as client:
        time.sleep(0.1)
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        assert ready.status_code == 503 and ready.json()["status"] == "not_ready"
        assert "mlflow unreachable" in ready.json()["reason"]
        for response in (client.post("/predict", json=ROW), client.get("/model-info"),
                         client.post("/predict/batch", json={"instances": [ROW]})):
            assert response.status_code == 503
            assert response.json()["detail"][0]["type"] == "model_not_ready"
        failures = re.search(r'model_reload_failures_total\{stage="load"\} (\S+)', client.get("/metrics").text)
        assert float(failures.group(1)) >= 1


def test_start_up_retries_until_the_model_appears(kit, served):
    attempts = itertools.count()

    async def load(_):
        if next(attempts) < 2:
            raise ConnectionError("not yet")
        return served

    with TestClient(create_app(kit.settings(), load=load)) as client:
        assert client.get("/ready").status_code == 503
        kit.wait_ready(client)
        assert client.post("/predict", json=ROW).json()["model"]["version"] == "1"


def make_loader(kit, load, resolve):
    state, metrics = ModelState(), Metrics()
    return ModelLoader(kit.settings(), state, metrics, load=load, resolve=resolve), state, metrics


def test_poll_swaps_on_alias_move_and_keeps_the_old_model_on_failure(kit, pipeline):
    from inference.model import fold_pipeline

    models = {v: kit.make_served(fold_pipeline(pipeline), version=v) for v in ("1", "2")}
    target = {"version": "1", "fail_load": False, "fail_resolve": False}

    async def load(_):
        if target["fail_load"]:
            raise OSError("artifact store down")
        return models[target["version"]]

    async def resolve(_):
        if target["fail_resolve"]:
            raise OSError("mlflow down")
        return target["version"]

    loader, state, metrics = make_loader(kit, load, resolve)

    async def scenario():
        await loader.initial_load()
        assert state.served is models["1"]
        await loader.poll_once()
        assert state.served is models["1"]
        target["version"] = "2"
        await loader.poll_once()
        assert state.served is models["2"]
        target.update(version="3", fail_load=True)
        await loader.poll_once()
        assert state.served is models["2"]
        target["fail_resolve"] = True
        await loader.poll_once()
        assert state.served is models["2"]

    asyncio.run(scenario())
    text = metrics.render().decode()
    assert 'model_reload_failures_total{stage="load"} 1.0' in text
    assert 'model_reload_failures_total{stage="resolve"} 1.0' in text
    assert "model_reloads_total 2.0" in text
    assert 'served_model_info{alias="production",kind="folded",name="penguins-classifier",version="2"} 1.0' in text
    assert not re.search(r'served_model_info\{[^}]*version="1"', text)


def test_in_flight_request_finishes_on_the_model_it_started_with(kit, served, dataset):
    from inference.model import fold_pipeline

    state, metrics = ModelState(), Metrics()
    newer = kit.make_served(fold_pipeline(kit.contract_pipeline(c=0.01).fit(*dataset)), version="2")

    class SwappingPredictor:
        kind = "folded"

        def predict_one(self, x, island, sex):
            state.served = newer  # the reload task swaps while this request is computing
            return served.predictor.predict_one(x, island, sex)

    state.served = kit.make_served(SwappingPredictor(), version="1")
    service = PredictService(state, metrics, kit.settings())
    status, body = service.respond("/predict", b"application/json", orjson.dumps(ROW))
    assert status == 200 and orjson.loads(body)["model"]["version"] == "1"
    status, body = service.respond("/predict", b"application/json", orjson.dumps(ROW))
    assert orjson.loads(body)["model"]["version"] == "2"


@pytest.mark.timeout(30)
def test_reload_task_swaps_under_traffic_without_failed_requests(kit, served, pipeline):
    from inference.model import fold_pipeline

    newer = kit.make_served(fold_pipeline(pipeline), version="2")
    current = {"version": "1"}

    async def load(_):
        return served if current["version"] == "1" else newer

    async def resolve(_):
        return current["version"]

    app = create_app(kit.settings(model_reload_interval_s=0.05), load=load, resolve=resolve)
    with TestClient(app) as client:
        kit.wait_ready(client)
        seen = set()
        for i in range(400):
            if i == 100:
                current["version"] = "2"
            response = client.post("/predict", json=ROW)
            assert response.status_code == 200
            seen.add(response.json()["model"]["version"])
            if seen == {"1", "2"}:
                break
            time.sleep(0.005)
        assert seen == {"1", "2"}
