"""Holdout evaluation: metrics, classification report and a confusion-matrix figure."""

from collections.abc import Sequence
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score
from sklearn.pipeline import Pipeline

from trainer.data import SPECIES


def evaluate(model: Pipeline, X_test: pd.DataFrame, y_test: pd.Series) -> dict[str, float]:
    """accuracy, f1_macro and f1_/precision_/recall_<species> on the holdout."""
    y_pred = model.predict(X_test)
    report = classification_report(y_test, y_pred, labels=list(SPECIES), output_dict=True, zero_division=0)
    metrics = {
        "accuracy": float(accuracy_score(y_test, y_pred)),
        "f1_macro": float(f1_score(y_test, y_pred, labels=list(SPECIES), average="macro", zero_division=0)),
    }
    for species in SPECIES:
        for name in ("f1", "precision", "recall"):
            metrics[f"{name}_{species}"] = float(report[species][_report_key(name)])
    return metrics


def classification_reports(y_true: Sequence[str], y_pred: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """The sklearn classification report as text and as a JSON-ready dict."""
    kwargs: dict[str, Any] = {"labels": list(SPECIES), "zero_division": 0, "digits": 4}
    text = classification_report(y_true, y_pred, **kwargs)
    as_dict = classification_report(y_true, y_pred, output_dict=True, **kwargs)
    return text, as_dict


def confusion_matrix_figure(y_true: Sequence[str], y_pred: Sequence[str]) -> Figure:
    """A labelled confusion matrix drawn with the Agg backend (no display, no pyplot state)."""
    matrix = confusion_matrix(y_true, y_pred, labels=list(SPECIES))
    figure = Figure(figsize=(5, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes)
    ticks = range(len(SPECIES))
    axes.set_xticks(ticks, labels=SPECIES)
    axes.set_yticks(ticks, labels=SPECIES)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title("Confusion matrix (holdout)")
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in ticks:
        for col in ticks:
            color = "white" if matrix[row, col] > threshold else "black"
            axes.text(col, row, str(matrix[row, col]), ha="center", va="center", color=color)
    figure.tight_layout()
    return figure


def _report_key(metric: str) -> str:
    return "f1-score" if metric == "f1" else metric
