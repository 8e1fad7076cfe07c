"""The API's CPU per request against the rate one replica serves, fitted on a redline run's passing steps.

The cost is not a constant: at low rates each request wakes the event loop on its own (today 210-290 us per
request at 280 req/s, 91-104 us at 5,500 on one replica: results/20261206-equivalence, -find10000-wrk), so a model
of the knee takes the cost at the rate it predicts. Two forms,
each least squares (numpy) over every passing step with CPU measured, rate = req/s per replica:
- `overhead`: us/request = a + b / rate: a the cost once requests come back to back, b / 1e6 the cores a replica
  spends besides;
- `power`: us/request = k x rate^p (p < 0), fitted on the logarithms: the cost keeps falling with the rate.
A replica saturates at the rate whose cores (us/request x rate / 1e6) fill its quota, at most one core per server
process.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capacity.core.knee_record import KneeRecord

FORMS = ("overhead", "power")


@dataclass(frozen=True)
class Cost:
    form: str
    coef: tuple[float, float]  # overhead: (a us, b us x req/s); power: (k us, p)
    steps: int

    def us_per_request(self, rate: float) -> float:
        c0, c1 = self.coef
        return c0 + c1 / rate if self.form == "overhead" else c0 * rate**c1

    def saturation_rps(self, cpus: float, processes: int = 1) -> float:
        """Req/s one replica serves with its quota spent (0: the overhead alone spends it)."""
        cores, (c0, c1) = min(cpus, processes), self.coef
        if self.form == "overhead":
            return max(cores - c1 / 1e6, 0.0) * 1e6 / c0
        return (cores * 1e6 / c0) ** (1 / (1 + c1))

    def describe(self) -> str:
        c0, c1 = self.coef
        formula = (f"{c0:,.0f} + {c1:,.0f} / rate" if self.form == "overhead" else f"{c0:,.0f} x rate^{c1:.2f}")
        return (f"us/request = {formula} (rate: req/s per replica; {self.us_per_request(100):,.0f} us at 100, "
                f"{self.us_per_request(3000):,.0f} at 3,000), from {self.steps} passing steps")


def step_us_per_request(step: dict) -> float | None:
    """The API's CPU per request at a step: the cgroup's (runs since 2026-12-06), else docker stats' cores."""
    if step.get("api_us_per_request") is not None:
        return step["api_us_per_request"]
    cores = step.get("api_cpu_cores", step.get("api_cpu_cores_mean"))
    rps = step.get("delivered_rps")
    return cores / rps * 1e6 if cores is not None and rps else None


def cost_points(ramps: list[KneeRecord]) -> list[tuple[float, float]]:
    """(req/s per replica, us per request) of every passing step with both measured."""
    points = []
    for ramp in ramps:
        for step in ramp.steps:
            us = step_us_per_request(step)
            if step.get("status") == "pass" and us and step.get("delivered_rps"):
                points.append((step["delivered_rps"] / ramp.cell.replicas, us))
    return points


def fit_cost(ramps: list[KneeRecord], form: str) -> Cost:
    points = cost_points(ramps)
    if len({rate for rate, _ in points}) < 2:
        raise ValueError(f"cost fit: needs passing steps at 2 rates or more with CPU measured, got {len(points)}")
    rate, us = np.array(points).T
    if form == "overhead":
        (a, b), *_ = np.linalg.lstsq(np.c_[np.ones_like(rate), 1 / rate], us, rcond=None)
        coef = (float(a), float(b))
    else:
        p, log_k = np.polyfit(np.log(rate), np.log(us), 1)
        coef = (float(np.exp(log_k)), float(p))
    cost = Cost(form, coef, len(points))
    if coef[0] <= 0 or (form == "power" and coef[1] <= -1):
        raise ValueError(f"cost fit `{form}`: {cost.describe()} never fills a quota")
    return cost
