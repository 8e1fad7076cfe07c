"""One verdict for the UI, the headless summary and the capacity runner: offered vs delivered, generator, API."""

import pytest

from loadtest.validity import Generator, Load, Replica, Thresholds, judge


def test_a_closed_loop_that_keeps_up_is_valid():
    load = Load(users=300, think_time_s=1.75, response_time_s=0.01, delivered_rps=165.0)
    v = judge(load, [Generator("worker 1", cpu_pct=12.0, runqueue_pct=1.5), Generator("master", 2.0, 0.1)])
    assert v.valid and v.label == "VALID" and v.reason is None
    assert v.offered_rps == pytest.approx(170.45, abs=0.01) and v.ratio == pytest.approx(0.968, abs=0.001)


def test_a_starved_worker_under_90_percent_cpu_makes_it_invalid_and_says_why():
    load = Load(users=10_000, think_time_s=1.75, response_time_s=0.0, delivered_rps=1_400.0)
    v = judge(load, [Generator("worker 3", cpu_pct=38.0, runqueue_pct=41.0)],
              [Replica("172.18.0.7:8000", cpu_cores=0.2, cpu_limit_cores=1.0, throttled_share=0.0)])
    assert not v.valid and v.label == "INVALID"
    assert v.reason == "offered 5,714 req/s, delivered 1,400 (24%); worker 3 waited for a CPU 41% of the time"
    assert v.notes == ("api 172.18.0.7:8000 used 0.20 of 1 cores: the host or the generator is the limit, "
                       "not the API",)
    assert v.as_dict()["verdict"] == "INVALID" and v.as_dict()["offered_rps"] == 5714.3


def test_the_load_line_leads_any_invalid_verdict():
    load = Load(users=100, think_time_s=1.0, response_time_s=0.0, delivered_rps=95.0)
    v = judge(load, [Generator("master", cpu_pct=97.0, runqueue_pct=None, role="master")])
    assert v.reasons == ("offered 100 req/s, delivered 95 (95%)", "master used 97% of a CPU (limit 90%)")


def test_an_api_at_its_own_cpu_limit_is_a_valid_measurement_with_a_note():
    load = Load(users=1_000, think_time_s=1.75, response_time_s=4.0, delivered_rps=170.0)
    v = judge(load, [Generator("worker 1", 20.0, 2.0)], [Replica("10.0.0.2:8000", 0.1, 0.1, 0.8)])
    assert v.valid
    assert v.notes == ("api 10.0.0.2:8000 throttled in 80% of CPU periods: its own CPU limit (0.1 cores) "
                       "holds it back",)


def test_thresholds_and_spawning_and_unknowns():
    spawning = Load(users=5_000, think_time_s=1.75, response_time_s=0.01, delivered_rps=500.0, steady=False)
    v = judge(spawning, [Generator("worker 1", cpu_pct=None, runqueue_pct=None)])
    assert v.valid and v.ratio is not None and "still being spawned" in v.notes[0]
    idle = judge(Load(users=0, think_time_s=1.75, response_time_s=None, delivered_rps=0.0))
    assert idle.valid and idle.offered_rps is None and idle.ratio is None and idle.notes == ()
    strict = Thresholds(max_runqueue_pct=1.0)
    assert not judge(Load(0, 1.0, None, 0.0), [Generator("worker 1", 5.0, 2.0)], (), strict).valid
    unlimited = Replica("a:8000", cpu_cores=0.01, cpu_limit_cores=float("inf"), throttled_share=None)
    assert judge(Load(10, 1.0, 0.0, 1.0), [], [unlimited]).notes == ()


def test_more_users_than_asked_for_is_a_starved_generator():
    load = Load(users=22_250, think_time_s=1.75, response_time_s=9.17, delivered_rps=960.0, target_users=10_000)
    v = judge(load)
    assert not v.valid
    assert v.reasons == ("offered 2,038 req/s, delivered 960 (47%)", "22,250 users run for a target of 10,000: "
                         "starved workers missed their heartbeats and Locust gave their users to others")
    assert judge(Load(10_000, 1.75, 0.01, 5_600.0, target_users=10_000)).valid


def test_only_a_busy_generator_with_the_load_delivered_is_generator_only():
    busy = [Generator("Locust", cpu_pct=60.0, runqueue_pct=24.0)]
    delivered = judge(Load(users=2_000, think_time_s=1.75, response_time_s=0.005, delivered_rps=1_179.0), busy)
    assert not delivered.valid and delivered.generator_only  # find 2,000, 2026-11-30: 103% delivered
    assert delivered.as_dict()["generator_only"] is True
    short = judge(Load(users=2_000, think_time_s=1.75, response_time_s=0.005, delivered_rps=1_000.0), busy)
    assert not short.valid and not short.generator_only  # 88% delivered: the load did not arrive
    crowded = judge(Load(users=2_100, think_time_s=1.75, response_time_s=0.005, delivered_rps=1_190.0,
                         target_users=2_000), busy)
    assert not crowded.generator_only  # more users than asked for is not the generator's CPU alone
    assert not judge(Load(users=300, think_time_s=1.75, response_time_s=0.01, delivered_rps=165.0)).generator_only


def test_a_shortfall_with_every_generator_idle_is_the_api_falling_behind():
    # 1 x 0.05 CPU at 150 users (redline, 2026-11-30): 84 req/s offered, 63 delivered, Locust nearly idle.
    load = Load(users=150, think_time_s=1.75, response_time_s=0.04, delivered_rps=63.0)
    idle = [Generator("worker 1", 4.0, 1.0), Generator("master", 1.0, 0.2, role="master")]
    v = judge(load, idle)
    assert v.valid and v.api_behind and not v.reasons
    assert v.notes[0].startswith("offered 84 req/s, delivered 63 (75%) with Locust not busy")
    unmeasured = judge(load, [Generator("worker 1", 4.0, None)])
    assert not unmeasured.valid and not unmeasured.api_behind  # no run-queue figure: cannot clear the generator
    assert not judge(load).valid  # no generator data at all
    busy = judge(load, [Generator("worker 1", 4.0, 35.0)])
    assert not busy.valid and not busy.api_behind
