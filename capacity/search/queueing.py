"""A knee predicted from the physics: the API's CPU per request, its CPU quota and period, and the SLO.

Cost: a request pays its own work a and shares one wake-up w of the event loop with the requests it finds at the
replica (search.cost_curve): us/request = a + w / (1 + Q).

Queue, per replica: a closed loop of N / replicas users (the lb spreads requests evenly), each thinking Z (the
mean of wait_min and wait_max), in front of one processor-sharing server running at the quota (at most one core
per server process). Mean Value Analysis, with the demand a request pays for the queue it finds, Q(n-1) by the
arrival theorem: D(n) = (a + w / (1 + Q(n-1))) / cpus, R(n) = D(n) x (1 + Q(n-1)), X(n) = n / (Z + R(n)),
Q(n) = X(n) x R(n) (exact for a constant cost; here the cost at the load it predicts). p95 = ln(20) x R (an
exponential sojourn) + (1 - cpus) x period x U (a request that finds the quota spent waits for the next period;
U = X x D). The knee is the largest N whose p95 stays within the SLO. The lb (fixed limits), the generator and
the host's other processes are outside the model.

Held out: each configuration's knee is predicted from a cost fitted on the other configurations' steps only, the
prediction rounded down to that ramp's step (what its ramp could have shown), and compared with the measured
median knee in req/s, as search.fit scores its fits; only real knees are scored.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from statistics import fmean

from capacity.core.knee_record import ConfigurationKnee, KneeRecord
from capacity.search.cost_curve import Cost, fit_cost

LN20 = math.log(20)  # an exponential's 95th percentile, in means


@dataclass(frozen=True)
class Replica:
    cpus: float
    period_ms: float
    processes: int = 1


@dataclass(frozen=True)
class Loop:
    think_s: float
    slo_p95_ms: float


def mva(cost: Cost, replica: Replica, think_s: float) -> Iterator[tuple[int, float, float, float]]:
    """MVA of one replica's closed loop: (n, R(n) s, X(n) req/s, D(n) s) for n = 1, 2, ... (stop it yourself)."""
    cores = min(replica.cpus, replica.processes)
    queue, n = 0.0, 0
    while True:
        n += 1
        demand = cost.us_per_request(queue) / 1e6 / cores
        response = demand * (1 + queue)
        rate = n / (think_s + response)
        queue = rate * response
        yield n, response, rate, demand


def p95_ms(response_s: float, rate: float, demand_s: float, replica: Replica) -> float:
    """One replica's predicted p95 at `rate` req/s on it."""
    stall = max(1 - replica.cpus, 0.0) * replica.period_ms * min(rate * demand_s, 1.0)
    return LN20 * response_s * 1000 + stall


def knee(cost: Cost, replica: Replica, replicas: int, loop: Loop) -> tuple[int, float]:
    """(users, req/s) at the largest number of users whose predicted p95 holds the SLO; (0, 0) if one user fails."""
    last = (0, 0.0)
    for n, response, rate, demand in mva(cost, replica, loop.think_s):
        if p95_ms(response, rate, demand, replica) > loop.slo_p95_ms:
            return last[0] * replicas, last[1] * replicas
        last = (n, rate)
    raise AssertionError("unreachable: R(n) grows without bound")


def at_users(cost: Cost, replica: Replica, users: int, replicas: int, think_s: float) -> tuple[float, float, float]:
    """(R s, X req/s of all replicas, D s) with `users` users spread over `replicas` (users / replicas each,
    rounded); X is 0 below one user per replica."""
    per_replica = round(users / replicas)
    if per_replica < 1:
        return math.inf, 0.0, math.inf
    for n, response, rate, demand in mva(cost, replica, think_s):
        if n == per_replica:
            return response, rate * replicas, demand
    raise AssertionError("unreachable")


def holds(cost: Cost, replica: Replica, users: int, replicas: int, loop: Loop) -> bool:
    """The predicted p95 at `users` users holds the SLO (p95 grows with users: the knee is at or above)."""
    response, rate, demand = at_users(cost, replica, users, replicas, loop.think_s)
    return rate > 0 and p95_ms(response, rate / replicas, demand, replica) <= loop.slo_p95_ms


@dataclass(frozen=True)
class HeldOut:
    label: str
    kind: str  # the configuration's ("knee" is scored)
    step_users: int
    measured_users: float | None
    measured_rps: float | None
    predicted_users: int  # rounded down to the ramp's step
    predicted_rps: float

    @property
    def error_pct(self) -> float | None:
        if self.kind != "knee" or not self.measured_rps:
            return None
        return abs(self.predicted_rps - self.measured_rps) / self.measured_rps * 100

    @property
    def users_error_pct(self) -> float | None:
        """The same in users: up to one step apart where the measured ramp delivered little more past saturation."""
        if self.error_pct is None or not self.measured_users:
            return None
        return abs(self.predicted_users - self.measured_users) / self.measured_users * 100


@dataclass(frozen=True)
class QueueingModel:
    cost: Cost  # from every configuration's steps
    loop: Loop
    held_out: tuple[HeldOut, ...]  # one per configuration, its cost fitted without it

    @property
    def errors(self) -> list[float]:
        return [e for h in self.held_out if (e := h.error_pct) is not None]

    @property
    def loo_mean_pct(self) -> float | None:
        return round(fmean(self.errors), 1) if self.errors else None

    @property
    def loo_max_pct(self) -> float | None:
        return round(max(self.errors), 1) if self.errors else None

    def describe(self) -> str:
        users = [e for h in self.held_out if (e := h.users_error_pct) is not None]
        err = ("no knee held out" if self.loo_mean_pct is None else
               f"held-out error mean {self.loo_mean_pct:.1f}%, worst {self.loo_max_pct:.1f}% over "
               f"{len(self.errors)} knees, each rounded down to its ramp's step; in users {fmean(users):.1f}%, "
               f"worst {max(users):.1f}%")
        return f"{self.cost.describe()}; MVA, p95 = ln(20) x R + (1 - cpus) x period x U ({err})"


def replica_of(ramp: KneeRecord) -> Replica:
    return Replica(ramp.cell.cpus, ramp.cell.cpu_period_ms, ramp.cell.processes)


def held_out(slug: str, groups: dict[str, list[KneeRecord]], row: ConfigurationKnee, loop: Loop) -> HeldOut:
    """The configuration's knee predicted from a cost fitted on the other configurations' steps."""
    cost = fit_cost([r for other, ramps in groups.items() if other != slug for r in ramps])
    ramp = groups[slug][0]
    replica, step = replica_of(ramp), ramp.step_users or 1
    users = knee(cost, replica, row.replicas, loop)[0] // step * step
    rps = at_users(cost, replica, users, row.replicas, loop.think_s)[1]
    return HeldOut(row.label, row.kind, step, row.users, row.rps, users, rps)


def model(groups: dict[str, list[KneeRecord]], rows: list[ConfigurationKnee], loop: Loop) -> QueueingModel:
    """The queueing model of a redline run: `groups` its ramps per configuration slug, `rows` their knees
    (search.knees.configurations). Raises ValueError when the steps do not give a cost."""
    cost = fit_cost([r for ramps in groups.values() for r in ramps])
    held = []
    for row in rows:
        try:
            held.append(held_out(row.slug, groups, row, loop))
        except ValueError:  # the other configurations' steps alone give no cost
            continue
    return QueueingModel(cost, loop, tuple(held))


@dataclass(frozen=True)
class QueueingPrediction:
    users: int
    replicas: int
    cpus: float  # per replica
    knee_users: int  # the model's knee for this deployment
    rps: float  # what it serves `users` users

    @property
    def total_cpus(self) -> float:
        return round(self.cpus * self.replicas, 6)


def predict(model_: QueueingModel, users: int, replicas: list[int], period_ms: float,
            cpu_step: float = 0.05, max_cpus: float = 1.0) -> QueueingPrediction | None:
    """The cheapest replicas x CPU (search.fit.predict's ladder) whose predicted knee covers `users` plus the
    model's mean held-out error."""
    need = math.ceil(users * (1 + (model_.loo_mean_pct or 0.0) / 100))
    best = None
    for r in sorted(replicas):
        for k in range(1, int(round(max_cpus / cpu_step)) + 1):
            replica = Replica(round(k * cpu_step, 6), period_ms)
            if holds(model_.cost, replica, need, r, model_.loop):
                if best is None or (replica.cpus * r, r) < (best.total_cpus, best.replicas):
                    best = QueueingPrediction(users, r, replica.cpus, knee(model_.cost, replica, r, model_.loop)[0],
                                              at_users(model_.cost, replica, users, r, model_.loop.think_s)[1])
                break
    return best
