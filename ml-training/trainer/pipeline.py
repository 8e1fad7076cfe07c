"""The model: one-hot island and sex, scaled numeric features, logistic regression."""

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from trainer.data import ISLANDS, NUMERIC_FEATURES, SEXES


def build_pipeline(c: float = 1.0, max_iter: int = 1000) -> Pipeline:
    """An unfitted Pipeline with the step names and encoders fixed by the team contract."""
    preprocess = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(categories=[list(ISLANDS), list(SEXES)], handle_unknown="error"),
                ["island", "sex"],
            ),
            ("numeric", StandardScaler(), list(NUMERIC_FEATURES)),
        ]
    )
    return Pipeline([("preprocess", preprocess), ("classifier", LogisticRegression(max_iter=max_iter, C=c))])
