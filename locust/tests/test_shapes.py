"""The ramp shape yields the documented stages: +500 users per step up to 10,000, then hold, then stop."""

import pytest
from locust.util.load_locustfile import is_shape_class

from loadtest.settings import Settings
from loadtest.shapes import Stage, StagesShape, ramp_stages, shape_from_settings


def test_default_ramp_is_the_assignment():
    stages = ramp_stages(500, 60, 10_000, 300, 100)
    assert [s.users for s in stages] == [*range(500, 10_001, 500), 10_000]
    assert [s.until_s for s in stages[:3]] == [60, 120, 180]
    assert stages[-2].until_s == 20 * 60
    assert stages[-1] == Stage(20 * 60 + 300, 10_000, 100)


def test_last_step_is_capped_and_hold_optional():
    assert [s.users for s in ramp_stages(500, 10, 1_200, 0, 50)] == [500, 1_000, 1_200]


def _shape_at(shape_cls, seconds: float, monkeypatch):
    shape = shape_cls()
    monkeypatch.setattr(shape, "get_run_time", lambda: seconds)
    return shape.tick()


@pytest.mark.parametrize(("t", "expected"), [(0, (500, 25.0)), (59.9, (500, 25.0)), (60, (1000, 25.0)),
                                             (119, (1000, 25.0)), (120, (1500, 25.0)), (150, (1500, 25.0)),
                                             (179.9, (1500, 25.0)), (180, None)])
def test_shape_ticks_through_the_stages(t, expected, monkeypatch):
    settings = Settings(shape="ramp", step_users=500, step_duration_s=60, max_users=1500, hold_duration_s=0,
                        step_spawn_rate=25)
    assert _shape_at(shape_from_settings(settings), t, monkeypatch) == expected


def test_hold_then_stop(monkeypatch):
    shape = shape_from_settings(Settings(shape="ramp", step_users=5, step_duration_s=1, max_users=10,
                                         hold_duration_s=30))
    assert _shape_at(shape, 31.9, monkeypatch) == (10, 100.0)
    assert _shape_at(shape, 32, monkeypatch) is None


def test_shape_is_chosen_by_setting():
    assert shape_from_settings(Settings(shape="none")) is None
    ramp = shape_from_settings(Settings(shape="ramp"))
    assert is_shape_class(ramp) and not is_shape_class(StagesShape)
    assert len(ramp.stages) == 21 and ramp.stages[-1].users == 10_000
