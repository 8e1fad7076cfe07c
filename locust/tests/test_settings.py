"""LOCUST_* settings: defaults of the assignment, empty values ignored, inconsistent values rejected."""

import pytest
from pydantic import ValidationError

from loadtest.settings import Settings


def test_defaults(monkeypatch):
    for name in ("LOCUST_HOST", "LOCUST_WAIT_MIN", "LOCUST_WAIT_MAX", "LOCUST_SHAPE", "LOCUST_LEGACY_SHARE"):
        monkeypatch.delenv(name, raising=False)
    s = Settings()
    assert (s.wait_min, s.wait_max, s.legacy_share, s.shape) == (1.0, 2.5, 0.2, "none")
    assert (s.step_users, s.max_users) == (500, 10_000)
    assert s.weight_predict > s.weight_batch + s.weight_model_info


def test_env_and_empty_values(monkeypatch):
    monkeypatch.setenv("LOCUST_HOST", "http://lb")
    monkeypatch.setenv("LOCUST_SHAPE", "ramp")
    monkeypatch.setenv("LOCUST_WAIT_MIN", "")  # compose passes unset knobs as empty strings
    monkeypatch.setenv("LOCUST_USERS", "10000")  # Locust's own option: ignored here
    s = Settings()
    assert (s.host, s.shape, s.wait_min) == ("http://lb", "ramp", 1.0)


@pytest.mark.parametrize("kwargs", [{"wait_min": 3, "wait_max": 1}, {"legacy_share": 1.5}, {"shape": "spike"},
                                    {"weight_predict": 0, "weight_batch": 0, "weight_model_info": 0}])
def test_rejected(kwargs):
    with pytest.raises(ValidationError):
        Settings(**kwargs)
