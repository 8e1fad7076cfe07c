"""Is one measurement (a ramp step, a `find` cell) valid? The capacity runner's single entry to that question.

The rules live in loadtest.validity (the module the Locust UI and the headless summary use too): delivered
vs offered load by Little's law, the generator's CPU and run-queue delay, API throttling as a note only.
Everything in capacity that needs a validity verdict calls `measurement_validity`, so the rules can change
in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loadtest import validity


@dataclass(frozen=True)
class Validity:
    valid: bool
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    offered_rps: float | None = None
    ratio: float | None = None  # delivered / offered
    generator_only: bool = False  # INVALID only because the generator was busy, the load delivered
    api_behind: bool = False  # delivered short of offered with the generator not busy: the API's shortfall

    def as_dict(self) -> dict:
        return {"valid": self.valid, "reasons": self.reasons, "notes": self.notes,
                "offered_rps": self.offered_rps, "ratio": self.ratio, "generator_only": self.generator_only,
                "api_behind": self.api_behind}


def measurement_validity(users: int, think_time_s: float, response_ms: float | None, delivered_rps: float | None,
                         generator_cpu_pct: float | None, generator_runqueue_pct: float | None = None,
                         api_cpu_cores: float | None = None, api_cpu_limit_cores: float | None = None,
                         api_throttled_share: float | None = None, max_generator_cpu_pct: float = 90.0,
                         generator: str = "Locust") -> Validity:
    """VALID or INVALID with reasons, for a steady measurement of `users` closed-loop users."""
    if delivered_rps is None:
        return Validity(False, ["no steady requests to judge (the step ended before it settled)"])
    load = validity.Load(users=users, think_time_s=think_time_s,
                         response_time_s=None if response_ms is None else response_ms / 1000,
                         delivered_rps=delivered_rps)
    generators = [validity.Generator(generator, generator_cpu_pct, generator_runqueue_pct)]
    replicas = [validity.Replica("api (all replicas)", api_cpu_cores, api_cpu_limit_cores, api_throttled_share)]
    verdict = validity.judge(load, generators, replicas, validity.Thresholds(max_cpu_pct=max_generator_cpu_pct))
    return Validity(verdict.valid, list(verdict.reasons), list(verdict.notes),
                    None if verdict.offered_rps is None else round(verdict.offered_rps, 1),
                    None if verdict.ratio is None else round(verdict.ratio, 3), verdict.generator_only,
                    verdict.api_behind)
