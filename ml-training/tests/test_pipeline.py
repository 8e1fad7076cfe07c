import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from trainer.data import NUMERIC_FEATURES, SPECIES, load_data
from trainer.pipeline import build_pipeline


def test_pipeline_has_the_contract_steps():
    pipeline = build_pipeline(c=0.5, max_iter=321)
    assert [name for name, _ in pipeline.steps] == ["preprocess", "classifier"]
    preprocess, classifier = pipeline.named_steps["preprocess"], pipeline.named_steps["classifier"]
    assert isinstance(preprocess, ColumnTransformer) and isinstance(classifier, LogisticRegression)
    (cat_name, encoder, cat_cols), (num_name, scaler, num_cols) = preprocess.transformers
    assert (cat_name, cat_cols, num_name, num_cols) == (
        "categorical",
        ["island", "sex"],
        "numeric",
        list(NUMERIC_FEATURES),
    )
    assert isinstance(encoder, OneHotEncoder) and isinstance(scaler, StandardScaler)
    assert encoder.categories == [["Biscoe", "Dream", "Torgersen"], ["female", "male"]]
    assert encoder.handle_unknown == "error"
    assert (classifier.C, classifier.max_iter) == (0.5, 321)


def test_fitted_pipeline_predicts_species_and_rejects_unknown_islands():
    X, y = load_data()
    pipeline = build_pipeline().fit(X, y)
    assert tuple(pipeline.classes_) == SPECIES
    proba = pipeline.predict_proba(X.head(3))
    assert proba.shape == (3, 3) and proba.sum(axis=1) == pytest.approx([1, 1, 1])
    unknown = X.head(1).assign(island="Atlantis")
    with pytest.raises(ValueError):
        pipeline.predict(pd.DataFrame(unknown))
