"""SLO judgement: pass, fail with the reason, invalid when the generator was saturated."""

import pytest

from capacity.core.grid import Load, Slo
from capacity.core.records import CellMetrics
from capacity.core.status import FAIL, INVALID, PASS
from capacity.measure.slo import judge

LOAD = Load(users=2000, spawn_rate=100)
SLO = Slo()


def metrics(**over) -> CellMetrics:
    good = {"requests": 50_000, "failures": 0, "error_pct": 0.0, "p95_ms": 120.0, "users_reached": 2000,
            "oom_killed": 0, "restarts": 0, "error": None, "generator_valid": True, "generator_reason": None,
            "generator_cpu_sampled_pct": 40.0}
    return CellMetrics(**{**good, **over})


def test_pass():
    verdict = judge(metrics(), SLO, LOAD)
    assert verdict.status == PASS and verdict.reasons == [] and verdict.reason == "SLO held"


@pytest.mark.parametrize(("over", "reason"), [
    ({"p95_ms": 730.0}, "latency: p95 730 ms > 500 ms"),
    ({"failures": 12, "error_pct": 0.024}, "errors: 12 failed request(s)"),
    ({"users_reached": 1500}, "users: reached 1500 of 2000"),
    ({"oom_killed": 1}, "OOM: 1 replica(s) killed"),
    ({"restarts": 2}, "2 restart(s)"),
    ({"error": "api/lb did not become healthy", "requests": 0, "users_reached": 0}, "did not become healthy"),
])
def test_fail_says_why(over, reason):
    verdict = judge(metrics(**over), SLO, LOAD)
    assert verdict.status == FAIL
    assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_never_ready_lists_only_the_cause():
    verdict = judge(metrics(error="not ready after 240 s", requests=0, users_reached=0), SLO, LOAD)
    assert verdict.reasons == ["not ready after 240 s"]


def test_saturated_generator_is_invalid_not_fail():
    verdict = judge(metrics(generator_valid=False, generator_reason="Locust warned", p95_ms=900.0), SLO, LOAD)
    assert verdict.status == INVALID
    assert verdict.reasons[0] == "generator saturated: Locust warned"
    assert any("latency" in r for r in verdict.reasons)  # observed, but not concluded from


def test_generator_cpu_over_the_bound_per_event_loop_is_invalid():
    verdict = judge(metrics(generator_cpu_sampled_pct=97.0, generator_cpu_peak_pct=97.0), SLO, LOAD)
    assert verdict.status == INVALID and "97% CPU > 90%" in verdict.reason


def test_a_container_of_several_event_loops_is_judged_per_loop():
    # wrk's container at 116% in docker stats, its two threads at 58% each in its own telemetry (2026-12-06)
    verdict = judge(metrics(generator_cpu_sampled_pct=116.0, generator_cpu_peak_pct=58.0), SLO, LOAD)
    assert verdict.status == PASS, verdict.reasons


def test_oom_is_a_fail_even_with_a_saturated_generator():
    assert judge(metrics(oom_killed=1, generator_valid=False), SLO, LOAD).status == FAIL


def test_slo_is_configurable():
    lenient = Slo(p95_ms=1000, max_failures=20, users_ratio=0.5)
    assert judge(metrics(p95_ms=900.0, failures=10, users_reached=1000), lenient, LOAD).status == PASS


def test_a_generator_error_is_invalid_not_a_failure_of_the_api():
    verdict = judge(metrics(generator_error="Locust did not finish within 300 s; stopped", requests=0,
                            users_reached=0), SLO, LOAD)
    assert verdict.status == INVALID
    assert verdict.reasons[0] == "generator: Locust did not finish within 300 s; stopped"
