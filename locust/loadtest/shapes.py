"""Load shapes as data: a `LoadTestShape` walks a list of stages (locust `examples/custom_shape/stages.py`).

The assignment's ramp: add `step_users` (500) users every `step_duration_s`, up to `max_users` (10,000),
then hold `hold_duration_s`, then stop. Chosen with LOCUST_SHAPE=ramp; with LOCUST_SHAPE=none the
locustfile exposes no shape and plain `-u/-r/-t` (or the web UI form) drive the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from locust import LoadTestShape

from loadtest.settings import Settings


@dataclass(frozen=True)
class Stage:
    until_s: float  # the stage lasts until this many seconds after the start
    users: int
    spawn_rate: float


def ramp_stages(step_users: int, step_duration_s: float, max_users: int, hold_duration_s: float,
                spawn_rate: float) -> tuple[Stage, ...]:
    """One stage per step (the last step is capped at max_users), then the hold."""
    counts = list(range(step_users, max_users, step_users)) + [max_users]
    stages = [Stage(step_duration_s * (i + 1), n, spawn_rate) for i, n in enumerate(counts)]
    if hold_duration_s > 0:
        stages.append(Stage(stages[-1].until_s + hold_duration_s, max_users, spawn_rate))
    return tuple(stages)


class StagesShape(LoadTestShape):
    """Return the current stage's (users, spawn rate); None after the last stage stops the test."""

    abstract: ClassVar[bool] = True
    stages: ClassVar[tuple[Stage, ...]] = ()

    def tick(self) -> tuple[int, float] | None:
        run_time = self.get_run_time()
        for stage in self.stages:
            if run_time < stage.until_s:
                return stage.users, stage.spawn_rate
        return None


def shape_from_settings(settings: Settings) -> type[StagesShape] | None:
    """The shape class the locustfile should expose, or None for plain -u/-r."""
    if settings.shape == "none":
        return None
    stages = ramp_stages(settings.step_users, settings.step_duration_s, settings.max_users,
                         settings.hold_duration_s, settings.step_spawn_rate)

    class RampShape(StagesShape):
        """+step_users per step up to max_users, then hold."""

        abstract: ClassVar[bool] = False

    RampShape.stages = stages
    return RampShape
