"""From measured knees to a prediction: delivered req/s against API CPU, checked on knees left out.

Three linear models, fitted by least squares (numpy):
- `proportional`: rps = a * total_cpus   (a fixed CPU cost per request: no CPU, no requests)
- `total`: rps = a * total_cpus + b
- `per_replica`: rps = a * total_cpus + b * replicas + c   (a fixed cost or gain per replica)
Each is scored by leave-one-out: fitted without one knee, it predicts that knee; the error is
|predicted - measured| / measured, reported as the mean and the worst. The model with the smaller mean
error predicts. Only real knees count (a FAIL step ended the ramp); lower bounds are shown, never fitted.

The load N users offer is Little's law for a closed loop: N / (mean think time + mean response time), the
response time taken as the median of the knees' own (the latency the SLO allows at saturation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import fmean, median

import numpy as np

MODELS = ("proportional", "total", "per_replica")
REQS_PER_WORKER = 1_000  # req/s one Locust worker process offers comfortably (one saturates near 2,600 here)


@dataclass(frozen=True)
class Point:
    replicas: int
    cpus: float  # per replica
    rps: float  # delivered at the knee
    response_ms: float | None = None
    label: str = ""

    @property
    def total_cpus(self) -> float:
        return self.cpus * self.replicas


@dataclass(frozen=True)
class Fit:
    model: str
    coef: tuple[float, ...]
    loo_mean_pct: float | None  # None with too few points to leave one out
    loo_max_pct: float | None
    points: int
    loo: tuple[tuple[str, float, float], ...] = ()  # (label, measured, predicted without it)

    def predict(self, total_cpus: float, replicas: int) -> float:
        return float(np.dot(_features(self.model, total_cpus, replicas), self.coef))

    def describe(self) -> str:
        a = self.coef
        formula = f"req/s = {a[0]:,.0f} x total CPU"
        if self.model == "per_replica":
            formula += f" {a[1]:+,.0f} x replicas"
        if self.model != "proportional":
            formula += f" {a[-1]:+,.0f}"
        err = ("not enough knees to leave one out" if self.loo_mean_pct is None else
               f"leave-one-out error mean {self.loo_mean_pct:.1f}%, worst {self.loo_max_pct:.1f}%")
        return f"{formula} ({self.points} knees; {err})"


def _features(model: str, total_cpus: float, replicas: int) -> list[float]:
    return {"proportional": [total_cpus], "total": [total_cpus, 1.0],
            "per_replica": [total_cpus, float(replicas), 1.0]}[model]


def _solve(model: str, points: list[Point]) -> tuple[float, ...]:
    x = np.array([_features(model, p.total_cpus, p.replicas) for p in points])
    y = np.array([p.rps for p in points])
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return tuple(float(c) for c in coef)


def fit(points: list[Point], model: str) -> Fit:
    need = len(_features(model, 1.0, 1))  # one knee per coefficient
    if len(points) < need:
        raise ValueError(f"fit `{model}`: needs at least {need} knees, got {len(points)}")
    coef = _solve(model, points)
    loo = []
    if len(points) > need:
        for i, p in enumerate(points):
            rest = points[:i] + points[i + 1:]
            guess = float(np.dot(_features(model, p.total_cpus, p.replicas), _solve(model, rest)))
            loo.append((p.label, p.rps, guess))
    errors = [abs(g - m) / m * 100 for _, m, g in loo]
    return Fit(model, coef, round(fmean(errors), 1) if errors else None, round(max(errors), 1) if errors else None,
               len(points), tuple(loo))


def best_fit(points: list[Point]) -> Fit:
    """The model with the smaller leave-one-out error (the simpler one when the other cannot be scored)."""
    fits = []
    for model in MODELS:
        try:
            fits.append(fit(points, model))
        except ValueError:
            continue
    if not fits:
        raise ValueError(f"prediction: needs at least 1 knee, got {len(points)}")
    return min(fits, key=lambda f: (f.loo_mean_pct is None, f.loo_mean_pct or 0.0, len(f.coef)))


def offered_rps(users: int, think_time_s: float, response_ms: float) -> float:
    """Little's law for a closed loop of `users` users."""
    return users / (think_time_s + response_ms / 1000)


def knee_response_ms(points: list[Point]) -> float:
    """The median of the knees' mean response times: the latency the SLO allows at saturation."""
    return median([p.response_ms for p in points if p.response_ms is not None] or [0.0])


@dataclass(frozen=True)
class Prediction:
    users: int
    offered_rps: float
    response_ms: float
    replicas: int
    cpus: float  # per replica
    predicted_rps: float
    fit: Fit
    workers: int  # Locust workers a confirming run needs

    @property
    def total_cpus(self) -> float:
        return round(self.cpus * self.replicas, 6)


def predict(fit_: Fit, points: list[Point], users: int, think_time_s: float, replicas: list[int],
            cpu_step: float = 0.05, max_cpus: float = 1.0) -> Prediction | None:
    """The cheapest replicas x CPU the fit says holds `users`, with the fit's mean error as a safety margin."""
    response = knee_response_ms(points)
    need = offered_rps(users, think_time_s, response)
    margin = 1 + (fit_.loo_mean_pct or 0.0) / 100
    best = None
    for r in sorted(replicas):
        for k in range(1, int(round(max_cpus / cpu_step)) + 1):
            cpus = round(k * cpu_step, 6)
            rps = fit_.predict(cpus * r, r)
            if rps >= need * margin:
                if best is None or (cpus * r, r) < (best.total_cpus, best.replicas):
                    best = Prediction(users, need, response, r, cpus, rps, fit_, math.ceil(need / REQS_PER_WORKER))
                break
    return best
