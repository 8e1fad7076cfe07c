"""Split, fit and evaluate: everything that happens before MLflow sees the model."""

from dataclasses import dataclass

import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from trainer.data import SPECIES
from trainer.evaluate import evaluate
from trainer.pipeline import build_pipeline
from trainer.settings import Settings


class TrainingError(RuntimeError):
    """The fitted model breaks the contract (e.g. its classes are not SPECIES)."""


@dataclass(frozen=True)
class TrainedModel:
    """A fitted pipeline with its split and holdout metrics."""

    pipeline: Pipeline
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: pd.Series
    y_test: pd.Series
    metrics: dict[str, float]


def train(X: pd.DataFrame, y: pd.Series, settings: Settings) -> TrainedModel:
    """Stratified split with a fixed seed, fit the contract pipeline, evaluate on the holdout."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=settings.train_test_size, random_state=settings.train_seed, stratify=y
    )
    pipeline = build_pipeline(c=settings.train_c, max_iter=settings.train_max_iter)
    pipeline.fit(X_train, y_train)
    classes = tuple(str(label) for label in pipeline.classes_)
    if classes != SPECIES:
        raise TrainingError(f"model classes {classes} differ from the contract's {SPECIES}")
    metrics = evaluate(pipeline, X_test, y_test)
    return TrainedModel(pipeline, X_train, X_test, y_train, y_test, metrics)
