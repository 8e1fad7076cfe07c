"""Steps, step verdicts and the knee, on a ramp recorded through the native backend (data/ramp_native:
1 replica pinned to 1 core, +300 users every 15 s up to 1,500, 0.05-0.1 s think time, Locust on the same
2 cores). No timing is asserted: the numbers are the recorded ones."""

from pathlib import Path

import pytest

from capacity.core.grid import Slo
from capacity.core.status import FAIL, INVALID, PASS
from capacity.measure.ramp import (
    Knee,
    StepVerdict,
    clearly_failed,
    judge_ramp,
    judge_step,
    knee_of,
    step_users_for,
)
from capacity.measure.steps import Step, history_file, read_history, split_steps, step_resources

DATA = Path(__file__).parent / "data" / "ramp_native"
THINK = 0.075


def test_the_recorded_ramp_splits_into_its_five_steps():
    steps = split_steps(read_history(history_file(DATA)), 300, 15, settle_s=7)
    assert [s.users for s in steps] == [300, 600, 900, 1200, 1500]
    assert all(s.complete and s.delivered_rps > 0 and s.response_ms > 0 for s in steps)
    assert sum(s.requests for s in steps) <= read_history(history_file(DATA))[-1].requests
    assert steps[0].p95_ms < steps[-1].p95_ms  # latency grows with the load


def test_every_step_is_judged_and_the_starved_generator_makes_them_invalid():
    verdicts = judge_ramp(DATA, Slo(p95_ms=500), THINK, 300, 15, [])
    assert len(verdicts) == 5
    first = verdicts[0]
    # Locust waited for a CPU ~65% of the time (it shares the 2 cores with the API): not the API's number.
    assert first.status == INVALID and any("waited for a CPU" in r for r in first.reasons)
    assert first.resources["api_cpu_cores_mean"] > 0 and first.resources["api_mem_peak_mb"] > 50
    knee = knee_of(verdicts, 1500)
    assert knee.kind == "none" or knee.kind == "lower bound"
    assert knee.users == 0 and "INVALID" in knee.ended_by  # never a failure, never an answer


def test_a_generous_slo_and_no_validity_problem_gives_a_knee(monkeypatch):
    import capacity.measure.ramp as redline
    from capacity.measure.validation import Validity

    monkeypatch.setattr(redline, "measurement_validity", lambda *a, **k: Validity(True))
    verdicts = judge_ramp(DATA, Slo(p95_ms=700), THINK, 300, 15, [])
    assert [v.status for v in verdicts][:3] == [PASS, PASS, PASS]
    knee = knee_of(verdicts, 1500)
    assert knee.kind == "knee" and knee.users == 900 and knee.delivered_rps == verdicts[2].step.delivered_rps
    assert knee.step["p95_ms"] <= 700 and "1,200 users FAIL" in knee.ended_by


def _verdict(users, status):
    step = Step(users, 0, 10, 5, 100.0, 50.0, 10.0, 20.0, 30.0, 1000, 0, True)
    return StepVerdict(step, status, [] if status == PASS else [status], {}, {})


def test_knee_kinds():
    assert knee_of([_verdict(100, PASS), _verdict(200, PASS)], 200).kind == "lower bound"
    assert knee_of([_verdict(100, PASS), _verdict(200, INVALID)], 400).users == 100
    fail = knee_of([_verdict(100, FAIL)], 400)
    assert (fail.users, fail.kind) == (0, "none")
    assert isinstance(fail, Knee) and fail.as_dict()["steps"][0]["status"] == FAIL


@pytest.mark.parametrize(("cpus", "step"), [(0.05, 50), (0.1, 100), (0.25, 250), (0.5, 500), (2.0, 500)])
def test_step_size_follows_the_cpu(cpus, step):
    assert step_users_for(cpus) == step
    assert step_users_for(cpus, default=10) == 10  # a grid's own small step is kept


def test_a_step_that_clearly_failed_is_cut_short():
    rows = read_history(history_file(DATA))
    assert clearly_failed(rows, Slo(p95_ms=5000)) is None
    assert "p95 over" in clearly_failed(rows, Slo(p95_ms=100), settle_s=5)
    assert "failure" in clearly_failed(rows[:-1] + [rows[-1].__class__(**{**rows[-1].__dict__, "failures": 3})],
                                       Slo(p95_ms=5000))


def _busy_step(p95_ms):
    # 2,000 users at 1.75 s think time delivering 1,179 req/s (103%), Locust waiting for a CPU 24% of the time:
    # the probe of find 2,000 on 2026-11-30.
    return Step(2000, 0, 60, 50, 1179.0, 5.0, 4.0, p95_ms, 30.0, 70_000, 0, True)


def test_a_busy_generator_that_delivered_the_load_and_met_the_slo_is_a_conservative_pass():
    busy = {"generator_cpu_peak_pct": 60.0, "generator_runqueue_pct": 24.0, "api_cpu_cores_mean": 0.24}
    met = judge_step(_busy_step(17.0), busy, Slo(p95_ms=500), 1.75, [], 0.5)
    assert met.status == PASS and met.reasons == []
    assert met.validity["generator_only"] and "PASS under a busy generator" in met.validity["notes"][0]
    missed = judge_step(_busy_step(900.0), busy, Slo(p95_ms=500), 1.75, [], 0.5)
    assert missed.status == INVALID  # the miss may be the generator's: never a failure
    assert any("waited for a CPU 24%" in r for r in missed.reasons)


def test_the_generator_is_judged_per_event_loop_from_its_own_telemetry():
    # wrk's container read 116% in docker stats while its two threads sampled 62% and 54% themselves
    stats = [{"timestamp": 10.0, "role": "generator", "name": "wrk", "cpu_pct": 116.0, "mem_bytes": 1}]
    threads = [{"timestamp": "10", "node": f"wrk thread {i}", "cpu_percent": pct, "runqueue_pct": "9.0"}
               for i, pct in ((1, "62.0"), (2, "54.0"))]
    per_loop = step_resources(stats, threads, 0, 20)
    assert per_loop["generator_cpu_peak_pct"] == 62.0 and per_loop["generator_cpu_cores_mean"] == 1.16
    assert step_resources(stats, [], 0, 20)["generator_cpu_peak_pct"] == 116.0  # no telemetry: the container


def test_a_shortfall_with_an_idle_generator_fails_the_step():
    step = Step(150, 0, 20, 10, 63.0, 40.0, 30.0, 200.0, 400.0, 1300, 0, True)
    idle = {"generator_cpu_peak_pct": 4.0, "generator_runqueue_pct": 1.0}
    v = judge_step(step, idle, Slo(p95_ms=500), 1.75, [], 0.05)
    assert v.status == FAIL and v.validity["api_behind"]
    assert v.reasons == ["behind: delivered 63 of 84 req/s offered, Locust not busy"]


def test_delivered_rate_is_taken_between_worker_reports():
    # The master merges worker counters every 3 s: +510 requests per report at 300 users (170 req/s), the
    # counters standing still in between (1 x 0.1 CPU, redline 2026-11-30, which first read 112 req/s).
    from capacity.measure.steps import Row

    rows, count = [], 0
    for second in range(60):
        users = 100 * (1 + second // 20)
        if second % 3 == 0:
            count += 170 * users // 100
        rows.append(Row(1_000 + second, users, count, 0, 20.0, 10.0, 60.0, 80.0))
    rows += [Row(1_060, 300, count, 0, 20.0, 10.0, 60.0, 80.0), Row(1_061, 300, count, 0, 20.0, 10.0, 60.0, 80.0)]
    steps = split_steps(rows, 100, 20, settle_s=10)
    assert [s.users for s in steps] == [100, 200, 300]
    assert [s.delivered_rps for s in steps] == [pytest.approx(56.67, abs=0.01), pytest.approx(113.33, abs=0.01), 170.0]


def test_a_ramp_that_ended_below_max_users_says_so():
    knee = knee_of([_verdict(100, PASS), _verdict(150, PASS)], 3000)
    assert (knee.kind, knee.users, knee.ended_by) == ("lower bound", 150, "the run ended after the 150-user step")


def test_a_generator_error_makes_the_last_step_invalid_unless_the_api_broke(monkeypatch):
    import capacity.measure.ramp as redline
    from capacity.measure.validation import Validity

    monkeypatch.setattr(redline, "measurement_validity", lambda *a, **k: Validity(True))
    lost = "not every Locust worker joined the master"
    verdicts = judge_ramp(DATA, Slo(p95_ms=700), THINK, 300, 15, [], generator_error=lost)
    assert verdicts[-1].status == INVALID and verdicts[-1].reasons[0] == f"generator: {lost}"
    assert knee_of(verdicts, 1500).users == 900  # the steps before it still count
    broke = judge_ramp(DATA, Slo(p95_ms=700), THINK, 300, 15, ["OOM kill"], generator_error=lost)
    assert broke[-1].status == FAIL and broke[-1].reasons[0] == "OOM kill"
    nothing = knee_of([], 1500)
    assert (nothing.kind, nothing.ended_by) == ("lower bound", "no step was measured")


def test_first_ramps_then_repeats_of_real_knees_then_of_lower_bounds(tmp_path):
    import json

    from capacity.core.cells import Cell
    from capacity.search.redline import next_ramp

    knee, bound, fresh = Cell(1, 0.1, "256M", 1, 1), Cell(2, 0.5, "256M", 1, 1), Cell(3, 1.0, "256M", 1, 1)
    for cell, kind in ((knee, "knee"), (bound, "lower bound")):
        (tmp_path / f"{cell.slug}-r1").mkdir()
        (tmp_path / f"{cell.slug}-r1" / "knee.json").write_text(json.dumps({"kind": kind}))
    todo = [(c, None, k) for c in (knee, bound) for k in (2, 3)] + [(fresh, None, 1), (fresh, None, 2)]
    order = []
    while todo:
        job = next_ramp(todo, tmp_path)
        todo.remove(job)
        order.append((job[0].cpus, job[2]))
        folder = tmp_path / f"{job[0].slug}-r{job[2]}"
        folder.mkdir(exist_ok=True)
        (folder / "knee.json").write_text(json.dumps({"kind": "lower bound" if job[0] is bound else "knee"}))
    assert order == [(1.0, 1), (0.1, 2), (1.0, 2), (0.1, 3), (0.5, 2), (0.5, 3)]


def test_delivered_rate_is_locusts_own_once_the_step_held_its_users_long_enough():
    # Two workers report every 3 s, one second apart, 285 requests each per report at 1,000 users (~570 req/s):
    # a counter window from one worker's report to the other's misses one (2 x 0.25 CPU, redline 2026-11-30).
    from capacity.measure.steps import Row

    rows, count = [], 0
    for second in range(20):
        if second % 3 in (0, 1):
            count += 285
        rows.append(Row(2_000 + second, 1_000, count, 0, 5.0, 4.0, 7.0, 9.0, 568.1 if second >= 12 else 400.0))
    rows.append(Row(2_020, 1_000, count, 0, 5.0, 4.0, 7.0, 9.0, 568.1))
    [step] = split_steps(rows, 1_000, 20, settle_s=10)
    assert step.delivered_rps == 568.1
    [short] = split_steps([r for r in rows if r.t < 2_011], 1_000, 10, settle_s=5)  # under 12 s: the counters
    assert short.delivered_rps != 400.0 and short.delivered_rps is not None
