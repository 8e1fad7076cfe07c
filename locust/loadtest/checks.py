"""Is an answer a valid prediction? Pure functions, so the rules are tested without Locust.

A failure is an answer the API should never give: a status other than 200, a body that is not JSON, or a
prediction without a known species and a probability for each species that sum to 1.

A valid prediction of the wrong species is NOT a failure: the model is ~99% accurate on these rows, so a
few honest mistakes per thousand are expected and would otherwise turn every long run red and hide real
errors among them. Those are counted apart (`Verdict.mismatches`, reported as the run's accuracy) so a model
that suddenly answers wrongly still shows in the summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadtest.constants import SPECIES

_SPECIES_SET = frozenset(SPECIES)


@dataclass(frozen=True)
class Verdict:
    error: str | None = None  # set -> the request is a failure
    checked: int = 0  # predictions compared with the true species
    mismatches: int = 0  # valid predictions of another species


def _prediction_error(pred: object, legacy: bool = False) -> str | None:
    if not isinstance(pred, dict):
        return "prediction is not an object"
    species = pred.get("species")
    if species not in _SPECIES_SET:
        return f"unknown species {species!r}"
    if "species_id" in pred and pred["species_id"] != SPECIES.index(species) + 1:
        return f"species_id {pred['species_id']!r} does not match {species}"
    if legacy and pred.get("species_name") != species:
        return "legacy answer without matching species_name"
    probs = pred.get("probabilities")
    if not isinstance(probs, dict) or set(probs) != _SPECIES_SET:
        return "probabilities missing or not one per species"
    values = list(probs.values())
    if not all(isinstance(v, int | float) and 0.0 <= v <= 1.0 for v in values):
        return "probability outside [0, 1]"
    if not math.isclose(sum(values), 1.0, abs_tol=1e-3):
        return f"probabilities sum to {sum(values):.4f}"
    return None


def check_single(body: object, expected: str, legacy: bool = False) -> Verdict:
    error = _prediction_error(body, legacy)
    if error:
        return Verdict(error=error)
    return Verdict(checked=1, mismatches=int(body["species"] != expected))


def check_batch(body: object, expected: tuple[str, ...]) -> Verdict:
    preds = body.get("predictions") if isinstance(body, dict) else None
    if not isinstance(preds, list) or len(preds) != len(expected):
        return Verdict(error=f"expected a list of {len(expected)} predictions")
    for pred in preds:
        if error := _prediction_error(pred):
            return Verdict(error=f"batch: {error}")
    wrong = sum(p["species"] != e for p, e in zip(preds, expected, strict=True))
    return Verdict(checked=len(expected), mismatches=wrong)


def check_model_info(body: object) -> Verdict:
    """The served model's name and version, at the top or under "model"."""
    info = body.get("model", body) if isinstance(body, dict) else None
    if not isinstance(info, dict) or not info.get("name") or not info.get("version"):
        return Verdict(error="model-info without name and version")
    return Verdict()
