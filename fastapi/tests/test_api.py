"""Both request forms, batch, model-info, metrics, health and OpenAPI, through the real ASGI stack."""

import numpy as np
import pandas as pd
import pytest

from inference.features import ISLANDS, NUMERIC_FEATURES, SEXES, SPECIES
from inference.schemas import NATURAL_EXAMPLE

NATURAL = dict(NATURAL_EXAMPLE)  # the row the OpenAPI example shows
MODEL_REF = {"name": "penguins-classifier", "version": "1", "alias": "production"}


def legacy(row: dict) -> dict:
    out = {name: row[name] for name in NUMERIC_FEATURES}
    out |= {f"island_{name}": int(row["island"] == name) for name in ISLANDS}
    return out | {f"sex_{name}": int(row["sex"] == name) for name in SEXES}


def test_natural_form(client, pipeline):
    response = client.post("/predict", json=NATURAL)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    body = response.json()
    frame = pd.DataFrame([NATURAL]).astype({name: "float64" for name in NUMERIC_FEATURES})
    expected = pipeline.predict_proba(frame)[0]
    assert body["species"] == "Adelie" and body["species_id"] == 1 and body["model"] == MODEL_REF
    assert list(body["probabilities"]) == list(SPECIES)
    assert np.allclose([body["probabilities"][s] for s in SPECIES], expected, rtol=0, atol=1e-9)
    assert "species_name" not in body


def test_legacy_form_answers_species_name_too(client):
    body = client.post("/predict", json=legacy(NATURAL)).json()
    natural = client.post("/predict", json=NATURAL).json()
    assert body["species_id"] == 1 and body["species_name"] == "Adelie"
    assert body["probabilities"] == natural["probabilities"] and body["model"] == MODEL_REF


@pytest.mark.parametrize("index", [0, 100, 200, 300])
def test_rows_of_every_species(client, pipeline, dataset, index):
    X, _ = dataset
    row = X.iloc[index].to_dict()
    row["year"] = int(row["year"])
    body = client.post("/predict", json=row).json()
    expected = pipeline.predict_proba(X.iloc[[index]])[0]
    assert body["species"] == SPECIES[int(np.argmax(expected))]
    assert np.allclose([body["probabilities"][s] for s in SPECIES], expected, rtol=0, atol=1e-9)


def test_batch_mixes_forms_and_matches_the_pipeline(client, pipeline, dataset):
    X, _ = dataset
    rows = [{**r, "year": int(r["year"])} for r in X.iloc[:40].to_dict("records")]
    instances = [legacy(r) if i % 2 else r for i, r in enumerate(rows)]
    response = client.post("/predict/batch", json={"instances": instances})
    assert response.status_code == 200
    body = response.json()
    assert body["model"] == MODEL_REF and len(body["predictions"]) == 40
    got = np.array([[p["probabilities"][s] for s in SPECIES] for p in body["predictions"]])
    assert np.max(np.abs(got - pipeline.predict_proba(X.iloc[:40]))) <= 1e-9
    assert ["species_name" in p for p in body["predictions"]] == [bool(i % 2) for i in range(40)]


def test_batch_at_the_limit(client):
    assert client.post("/predict/batch", json={"instances": [NATURAL] * 50}).status_code == 200


def test_model_info(client):
    body = client.get("/model-info").json()
    assert body["name"] == "penguins-classifier" and body["version"] == "1" and body["alias"] == "production"
    assert body["run_id"] == "run1" and body["metrics"] == {"accuracy": 0.99} and body["predictor"] == "folded"
    assert body["features"]["numeric"] == list(NUMERIC_FEATURES) and body["species"] == list(SPECIES)
    assert body["loaded_at"]


def test_health_and_ready(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready", "model": MODEL_REF}


def test_metrics_count_requests_predictions_and_model(client):
    client.post("/predict", json=NATURAL)
    client.post("/predict/batch", json={"instances": [NATURAL, NATURAL]})
    client.post("/predict", json={"nope": 1})
    client.get("/nowhere/at/all")
    text = client.get("/metrics").text
    assert 'http_requests_total{method="POST",route="/predict",status="200"} 1.0' in text
    assert 'http_requests_total{method="POST",route="/predict",status="422"} 1.0' in text
    assert 'http_requests_total{method="GET",route="other",status="404"} 1.0' in text
    assert 'http_request_duration_seconds_count{route="/predict/batch",status="200"} 1.0' in text
    assert 'predictions_total{species="Adelie"} 3.0' in text
    assert 'served_model_info{alias="production",kind="folded",name="penguins-classifier",version="1"} 1.0' in text
    assert "model_reloads_total 1.0" in text


def test_openapi_documents_both_forms_with_examples(client):
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    assert set(body["examples"]) == {"natural", "legacy"}
    assert {"PenguinFeatures", "LegacyPenguinFeatures", "PredictRequest", "BatchRequest", "Prediction",
            "ErrorResponse"} <= set(spec["components"]["schemas"])
    assert spec["components"]["schemas"]["BatchRequest"]["properties"]["instances"]["maxItems"] == 50
    assert client.get("/docs").status_code == 200
