import json

import pandas as pd

from trainer.data import SPECIES
from trainer.evaluate import classification_reports, confusion_matrix_figure, evaluate


class _Echo:
    """A stand-in model that predicts what it is told to."""

    def __init__(self, predictions):
        self.predictions = predictions

    def predict(self, X):
        return self.predictions


def test_metrics_cover_accuracy_macro_f1_and_each_class():
    y_true = pd.Series(["Adelie", "Adelie", "Chinstrap", "Gentoo"])
    metrics = evaluate(_Echo(["Adelie", "Chinstrap", "Chinstrap", "Gentoo"]), pd.DataFrame(index=y_true.index), y_true)
    expected = {"accuracy", "f1_macro"} | {f"{m}_{s}" for m in ("f1", "precision", "recall") for s in SPECIES}
    assert set(metrics) == expected
    assert metrics["accuracy"] == 0.75
    assert metrics["recall_Adelie"] == 0.5 and metrics["precision_Chinstrap"] == 0.5
    assert metrics["f1_Gentoo"] == 1.0
    assert all(isinstance(value, float) for value in metrics.values())


def test_reports_and_confusion_matrix_png(tmp_path):
    y_true, y_pred = ["Adelie", "Chinstrap", "Gentoo"], ["Adelie", "Gentoo", "Gentoo"]
    text, as_dict = classification_reports(y_true, y_pred)
    assert all(species in text for species in SPECIES)
    assert set(SPECIES) <= set(as_dict) and json.dumps(as_dict)
    path = tmp_path / "cm.png"
    confusion_matrix_figure(y_true, y_pred).savefig(path)
    assert path.read_bytes().startswith(b"\x89PNG")
