"""The load shape as wrk segments: one wrk process per fixed-load cell, or per ramp step (README, "Segments").

A segment starts `present` users that were already running (their first request after a stationary residual
of the think time, as if the loop had been running) and `new` users that arrive at `spawn_rate`, the first at
once, as Locust spawns them. The ramp's last step runs on through the hold: one process, no extra boundary.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    present: int  # users running when the segment starts
    new: int  # users arriving at spawn_rate during it
    spawn_rate: float  # users per second
    duration_s: int  # wrk's -d (whole seconds)

    @property
    def users(self) -> int:
        return self.present + self.new

    def users_at(self, elapsed_s: float) -> int:
        """Users running `elapsed_s` after the segment started (new user i arrives at i / spawn_rate)."""
        if elapsed_s < 0:
            return self.present
        return self.present + min(self.new, math.floor(elapsed_s * self.spawn_rate) + 1 if self.new else 0)


def fixed(users: int, spawn_rate: float, duration_s: float) -> tuple[Segment, ...]:
    return (Segment(0, users, spawn_rate, max(1, math.ceil(duration_s))),)


def ramp(step_users: int, step_duration_s: float, max_users: int, hold_duration_s: float,
         spawn_rate: float) -> tuple[Segment, ...]:
    """The same steps as loadtest.shapes.ramp_stages: +step_users per step, the last capped at max_users."""
    counts = list(range(step_users, max_users, step_users)) + [max_users]
    step = max(1, round(step_duration_s))
    segments = [Segment(prev, n - prev, spawn_rate, step) for prev, n in zip([0, *counts], counts, strict=False)]
    last = segments[-1]
    segments[-1] = Segment(last.present, last.new, spawn_rate, step + max(0, round(hold_duration_s)))
    return tuple(segments)


def residual_s(wait_min: float, wait_max: float, rng: random.Random) -> float:
    """Time to a running user's next request: a length-biased think time (density t / mean on [min, max]),
    cut uniformly. Latency is left out (~1 ms against 1.75 s of think time here)."""
    if wait_max <= 0:
        return 0.0
    length = math.sqrt(wait_min**2 + rng.random() * (wait_max**2 - wait_min**2))
    return rng.random() * length


def first_delays_ms(segment: Segment, wait_min: float, wait_max: float, rng: random.Random) -> list[int]:
    """Each user's wait before its first request in this segment: running users first, then arrivals."""
    running = [round(1000 * residual_s(wait_min, wait_max, rng)) for _ in range(segment.present)]
    arriving = [round(1000 * i / segment.spawn_rate) for i in range(segment.new)]
    return running + arriving
