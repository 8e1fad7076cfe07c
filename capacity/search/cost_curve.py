"""The API's CPU per request against the queue a request finds, fitted on a redline run's passing steps.

The cost is not a constant: a request that finds the event loop idle wakes it on its own; one that finds others
waiting shares their wake-up. So us/request = a + w / (1 + Q): a the work of one request, w one wake-up of the
loop (epoll, the thread hand-off), shared by the 1 + Q requests it picks up, Q the requests already at the
replica (Little's law per step: req/s per replica x mean response time). Least squares (numpy) over every passing
step with CPU measured. Today (results/20261206-redline-wrk, cgroups, wrk): a = 136 us, w = 210 us: 346 us per
request on an idle loop, ~140 us with a long queue (a 0.05 CPU replica at its knee served 400 req/s at 115 us).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from capacity.core.knee_record import KneeRecord


@dataclass(frozen=True)
class Cost:
    a_us: float  # one request's own work
    w_us: float  # one wake-up of the event loop, shared by the requests it finds
    steps: int

    def us_per_request(self, queue: float) -> float:
        """CPU per request when it finds `queue` requests at the replica."""
        return self.a_us + self.w_us / (1 + queue)

    def describe(self) -> str:
        return (f"us/request = {self.a_us:,.0f} + {self.w_us:,.0f} / (1 + requests it finds at the replica), "
                f"from {self.steps} passing steps")


def step_us_per_request(step: dict) -> float | None:
    """The API's CPU per request at a step: the cgroup's (runs since 2026-12-06), else docker stats' cores."""
    if step.get("api_us_per_request") is not None:
        return step["api_us_per_request"]
    cores = step.get("api_cpu_cores", step.get("api_cpu_cores_mean"))
    rps = step.get("delivered_rps")
    return cores / rps * 1e6 if cores is not None and rps else None


def step_queue(step: dict, replicas: int) -> float | None:
    """Requests at one replica during a step, by Little's law (the client's response time: the lb's included)."""
    rps, response = step.get("delivered_rps"), step.get("response_ms")
    return rps / replicas * response / 1000 if rps and response is not None else None


def cost_points(ramps: list[KneeRecord]) -> list[tuple[float, float]]:
    """(requests at the replica, us per request) of every passing step with both measured."""
    points = []
    for ramp in ramps:
        for step in ramp.steps:
            us, queue = step_us_per_request(step), step_queue(step, ramp.cell.replicas)
            if step.get("status") == "pass" and us and queue is not None:
                points.append((queue, us))
    return points


def fit_cost(ramps: list[KneeRecord]) -> Cost:
    points = cost_points(ramps)
    if len({queue for queue, _ in points}) < 2:
        raise ValueError(f"cost fit: needs passing steps at 2 loads or more with CPU measured, got {len(points)}")
    queue, us = np.array(points).T
    (a, w), *_ = np.linalg.lstsq(np.c_[np.ones_like(queue), 1 / (1 + queue)], us, rcond=None)
    if a <= 0 or a + w <= 0:
        raise ValueError(f"cost fit: {a:.0f} + {w:.0f} / (1 + Q) us per request is no cost")
    return Cost(float(a), float(w), len(points))
