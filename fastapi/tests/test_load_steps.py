"""Loading without MLflow: the fold-and-check child (inference.foldcheck) on skops files, and the fallback."""

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import numpy as np
import pytest
import skops.io
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

from inference import loader
from inference.artifact import LocalModel, describe
from inference.foldcheck import PARITY_TOLERANCE, load_and_fold
from inference.model import EstimatorPredictor, FoldedLinear, fold_pipeline

FASTAPI_DIR = Path(__file__).resolve().parents[1]


def saved(estimator, tmp_path: Path, trusted: list[str] | None = None) -> LocalModel:
    """As mlflow.sklearn.log_model writes it: the skops file and the flavor's trusted types."""
    skops.io.dump(estimator, tmp_path / "model.skops")
    flavor = {"pickled_model": "model.skops", "serialization_format": "skops", "skops_trusted_types": trusted}
    return describe(tmp_path, flavor)


TREE = ["sklearn.tree._tree.Tree"]  # not trusted by skops by default; logged with skops_trusted_types=TREE


def forest(kit, dataset) -> Pipeline:
    pre = kit.contract_pipeline().steps[0][1]
    return Pipeline([("preprocess", pre),
                     ("classifier", RandomForestClassifier(n_estimators=5, random_state=0))]).fit(*dataset)


def test_contract_pipeline_is_folded_and_checked_without_pandas(pipeline, tmp_path):
    doc = load_and_fold(saved(pipeline, tmp_path))
    assert doc["parity_error"] <= PARITY_TOLERANCE
    assert doc["folded"] == fold_pipeline(pipeline).to_dict()


def test_the_check_runs_the_real_column_transformer(kit, dataset, tmp_path):
    weighted = kit.contract_pipeline()
    weighted.steps[0][1].set_params(transformer_weights={"numeric": 2.0})  # folding ignores weights: must fail
    doc = load_and_fold(saved(weighted.fit(*dataset), tmp_path))
    assert "folded" not in doc and "differs from predict_proba" in doc["not_foldable"]


def test_other_models_are_reported_not_foldable(kit, dataset, tmp_path):
    doc = load_and_fold(saved(forest(kit, dataset), tmp_path, trusted=TREE))
    assert "folded" not in doc and doc["not_foldable"]


def test_step_two_child_keeps_mlflow_and_pandas_out(pipeline, tmp_path):
    spec, out = tmp_path / "spec.msgpack", tmp_path / "out.msgpack"
    spec.write_bytes(msgspec.msgpack.encode(saved(pipeline, tmp_path).to_dict()))
    probe = ("import runpy, sys\n"
             "sys.argv = sys.argv[1:]\n"
             "try:\n    runpy.run_module('inference.foldcheck', run_name='__main__')\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "assert not {'mlflow', 'pandas', 'pyarrow'} & set(sys.modules), 'heavy module imported'\n")
    result = subprocess.run([sys.executable, "-OO", "-c", probe, "foldcheck", str(out), str(spec)],
                            cwd=FASTAPI_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    folded = FoldedLinear.from_dict(msgspec.msgpack.decode(out.read_bytes())["folded"])
    assert np.array_equal(folded.w_num, fold_pipeline(pipeline).w_num)


def test_a_model_that_cannot_be_folded_is_served_by_the_estimator(kit, dataset, arrays, tmp_path, monkeypatch):
    """The real foldcheck child says "not foldable"; the server loads the estimator itself and serves it."""
    model = saved(forest(kit, dataset), tmp_path, trusted=TREE)

    def downloaded(settings, dest, deadline):  # stands in for the registry download only (tested in test_registry.py)
        return loader.ModelVersion("penguins-classifier", "3", "r3"), {"accuracy": 0.9}, model

    monkeypatch.setattr(loader, "download", downloaded)
    served = asyncio.run(loader.fetch_model(kit.settings(model_load_timeout_s=60)))
    assert isinstance(served.predictor, EstimatorPredictor) and served.version == "3" and served.run_id == "r3"
    expected = forest(kit, dataset).predict_proba(dataset[0])
    assert np.max(np.abs(served.predictor.predict_proba(*arrays) - expected)) == pytest.approx(0, abs=1e-12)


def test_the_fallback_serves_without_pandas(kit, dataset, arrays, tmp_path):
    """The serving image has no pandas: a non-foldable model is fed an object array, never a DataFrame."""
    model = saved(forest(kit, dataset), tmp_path, trusted=TREE)
    spec, out = tmp_path / "spec.msgpack", tmp_path / "proba.npy"
    spec.write_bytes(msgspec.msgpack.encode(model.to_dict()))
    np.save(tmp_path / "x.npy", np.column_stack(arrays))
    probe = ("import sys, msgspec, numpy as np\n"
             "from inference.isolate import block_imports\n"
             "block_imports('pandas', 'pyarrow', 'mlflow')\n"
             "from inference.artifact import LocalModel, load_estimator\n"
             "from inference.model import EstimatorPredictor\n"
             "spec, x, out = sys.argv[1:]\n"
             "model = LocalModel.from_dict(msgspec.msgpack.decode(open(spec, 'rb').read()))\n"
             "x = np.load(x)\n"
             "predictor = EstimatorPredictor.wrap(load_estimator(model))\n"
             "np.save(out, predictor.predict_proba(x[:, :5], x[:, 5].astype(int), x[:, 6].astype(int)))\n")
    result = subprocess.run([sys.executable, "-c", probe, str(spec), str(tmp_path / "x.npy"), str(out)],
                            cwd=FASTAPI_DIR, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = forest(kit, dataset).predict_proba(dataset[0])
    assert np.max(np.abs(np.load(out) - expected)) == pytest.approx(0, abs=1e-12)


def test_the_check_child_gets_only_what_is_left_of_the_load_budget(pipeline, tmp_path, kit):
    """One MODEL_LOAD_TIMEOUT_S covers download and checks: a child started at the deadline is killed at once."""
    spec = tmp_path / "spec.msgpack"
    spec.write_bytes(msgspec.msgpack.encode(saved(pipeline, tmp_path).to_dict()))
    run = loader.run_child(kit.settings(model_load_timeout_s=60), "inference.foldcheck", str(spec),
                           deadline=time.monotonic())
    with pytest.raises(TimeoutError):
        asyncio.run(run)
