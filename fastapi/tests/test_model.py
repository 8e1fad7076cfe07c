"""Folding the contract pipeline: exact parity with predict_proba on every dataset row; fallbacks."""

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

from inference.features import ISLANDS, SEXES, SPECIES
from inference.model import EstimatorPredictor, FoldedLinear, NotFoldable, fold_pipeline

TOLERANCE = 1e-9


def test_folded_batch_matches_predict_proba_on_every_row(pipeline, dataset, arrays):
    X, _ = dataset
    folded = fold_pipeline(pipeline)
    assert np.max(np.abs(folded.predict_proba(*arrays) - pipeline.predict_proba(X))) <= TOLERANCE


def test_folded_single_row_matches_predict_proba_on_every_row(pipeline, dataset, arrays):
    X, _ = dataset
    folded = fold_pipeline(pipeline)
    x_num, island, sex = arrays
    ours = np.array([folded.predict_one(tuple(x), int(i), int(s)) for x, i, s in zip(x_num, island, sex, strict=True)])
    assert np.max(np.abs(ours - pipeline.predict_proba(X))) <= TOLERANCE


def test_fold_survives_serialisation(pipeline, arrays):
    folded = fold_pipeline(pipeline)
    again = FoldedLinear.from_dict(folded.to_dict())
    assert np.array_equal(again.predict_proba(*arrays), folded.predict_proba(*arrays))


def test_folded_shapes(pipeline):
    folded = fold_pipeline(pipeline)
    assert folded.w_num.shape == (3, 5) and folded.w_island.shape == (3, len(ISLANDS))
    assert folded.w_sex.shape == (3, len(SEXES)) and folded.intercept.shape == (3,)


def test_other_estimators_are_not_folded_and_served_by_predict_proba(dataset, arrays, kit):
    X, y = dataset
    pre = kit.contract_pipeline().steps[0][1]
    forest = Pipeline([("preprocess", pre), ("classifier", RandomForestClassifier(n_estimators=5,
                                                                                  random_state=0))]).fit(X, y)
    with pytest.raises(NotFoldable):
        fold_pipeline(forest)
    fallback = EstimatorPredictor.wrap(forest)
    assert np.array_equal(fallback.predict_proba(*arrays), forest.predict_proba(X))
    assert fallback.predict_one(tuple(arrays[0][0]), int(arrays[1][0]), int(arrays[2][0])) == pytest.approx(
        forest.predict_proba(X.iloc[:1])[0].tolist())


@pytest.mark.parametrize("estimator", [object(), Pipeline([("only", RandomForestClassifier())])])
def test_not_a_contract_pipeline(estimator):
    with pytest.raises(NotFoldable):
        fold_pipeline(estimator)


def test_fallback_matches_fold(dataset, arrays, kit):
    X, y = dataset
    model = kit.contract_pipeline(c=0.5).fit(X, y)
    folded = fold_pipeline(model)
    assert tuple(model.classes_) == SPECIES
    assert np.max(np.abs(EstimatorPredictor.wrap(model).predict_proba(*arrays) - folded.predict_proba(*arrays))) < 1e-9
