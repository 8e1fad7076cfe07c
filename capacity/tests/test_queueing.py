"""The queueing model (search.queueing, search.cost_curve): MVA against its closed-form limits, the cost fit and
the held-out knees on recorded ramps, and the prediction taking the model with the smaller held-out error (no
timing, no mocks).

data/queueing-20261130/: run.json and five knee.json files of results/20261130-redline (docker stats' CPU; Locust):
real knees of 1 x 0.05, 1 x 0.1, 1 x 0.15 and 2 x 0.1 CPU, and a lower bound of 2 x 0.15 CPU.
data/queueing-20261206-wrk/: run.json and the first ramps of results/20261206-redline-wrk (cgroup CPU; wrk): real
knees of 1 and 2 x 0.05 and 0.1 CPU, a lower bound of 1 x 0.25 CPU.
"""

import json
import shutil
from itertools import islice
from pathlib import Path

import pytest

from capacity.core.find_result import FindResult
from capacity.core.knee_record import KneeRecord
from capacity.report.search import write_find_report
from capacity.search import queueing
from capacity.search.cost_curve import Cost, fit_cost, step_queue, step_us_per_request
from capacity.search.knees import knees_and_model, prediction

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
OLD, WRK = DATA / "queueing-20261130", DATA / "queueing-20261206-wrk"
ONE_CORE = queueing.Replica(1.0, 100)


def recorded(run: Path) -> dict[str, list[KneeRecord]]:
    """The fixture's ramps per configuration, as their knee.json judged them."""
    groups: dict[str, list[KneeRecord]] = {}
    for path in sorted(run.glob("*/knee.json")):
        ramp = KneeRecord.read(path.parent)
        groups.setdefault(ramp.cell.slug, []).append(ramp)
    return groups


def test_mva_of_one_user_is_its_own_demand():
    n, response, rate, demand = next(queueing.mva(Cost(4_000.0, 6_000.0, 1), ONE_CORE, 1.0))
    assert (n, response, demand) == (1, 0.01, 0.01) and rate == pytest.approx(1 / 1.01)  # an idle loop: a + w


def test_mva_of_many_users_saturates_the_server():
    think = 1.0  # a constant 10 ms saturates near (D + Z) / D = 101 users
    n, response, rate, _ = list(islice(queueing.mva(Cost(10_000.0, 0.0, 1), ONE_CORE, think), 1000))[-1]
    assert n == 1000 and rate == pytest.approx(100, rel=1e-6) and response == pytest.approx(n * 0.01 - think)
    half = queueing.Replica(0.5, 100)  # with the wake-up shared by a long queue, the quota over a alone
    *_, rate, demand = list(islice(queueing.mva(Cost(1_000.0, 3_000.0, 1), half, think), 5000))[-1]
    assert rate == pytest.approx(500, rel=1e-3) and demand == pytest.approx(0.002, rel=1e-3)


def test_the_cost_prefers_the_cgroup_and_falls_back_to_docker_stats():
    assert step_us_per_request({"api_us_per_request": 95.0, "api_cpu_cores": 1.0}) == 95.0
    assert step_us_per_request({"api_cpu_cores": 0.2, "delivered_rps": 1000}) == pytest.approx(200)
    assert step_us_per_request({"api_cpu_cores_mean": 0.1, "delivered_rps": 500}) == pytest.approx(200)
    assert step_us_per_request({"delivered_rps": 500}) is None
    assert step_queue({"delivered_rps": 1000, "response_ms": 8.0}, 2) == pytest.approx(4)  # Little's law


def test_the_cost_fit_on_recorded_steps():
    old = fit_cost([r for ramps in recorded(OLD).values() for r in ramps])
    wrk = fit_cost([r for ramps in recorded(WRK).values() for r in ramps])
    assert old.steps == 30 and wrk.steps == 35  # the passing steps of the five ramps
    assert 120 < wrk.a_us < 160 and 180 < wrk.w_us < 260  # cgroups: ~140 us a request, ~220 us a wake-up
    assert wrk.us_per_request(0) == pytest.approx(wrk.a_us + wrk.w_us) and wrk.us_per_request(1e9) == \
        pytest.approx(wrk.a_us)
    assert old.a_us > 2 * wrk.a_us  # docker stats and the Locust-era API: twice the CPU per request
    with pytest.raises(ValueError, match="needs passing steps at 2 loads"):
        fit_cost([])


def test_the_knee_grows_with_cpu_and_stops_short_of_saturation():
    cost, loop = Cost(100.0, 200.0, 1), queueing.Loop(1.75, 500.0)
    users, rps = queueing.knee(cost, queueing.Replica(0.5, 100), 1, loop)
    assert rps < 0.5e6 / cost.a_us and users == pytest.approx(rps * 1.75, rel=0.2)
    assert queueing.knee(cost, queueing.Replica(0.5, 100), 2, loop)[0] == 2 * users
    assert queueing.knee(cost, queueing.Replica(1.0, 100), 1, loop)[0] > users
    assert queueing.knee(cost, queueing.Replica(0.5, 10), 1, loop)[0] >= users  # a shorter CFS stall
    assert queueing.holds(cost, queueing.Replica(0.5, 100), users, 1, loop)
    assert not queueing.holds(cost, queueing.Replica(0.5, 100), users + 1, 1, loop)


@pytest.mark.parametrize(("run", "mean", "worst"), [(OLD, 4.6, 13.2), (WRK, 7.8, 18.4)])
def test_each_configuration_held_out_on_recorded_ramps(run, mean, worst):
    rows, model = knees_and_model(run, recorded(run))
    held = {h.label: h for h in model.held_out}
    assert len(held) == 5 and sum(h.error_pct is None for h in held.values()) == 1  # a lower bound: no score
    tenth = held["2 x (0.1 CPU, 256M)"]
    assert tenth.predicted_users % tenth.step_users == 0 and tenth.error_pct < 4
    assert model.loo_mean_pct == pytest.approx(mean, abs=0.1) and model.loo_max_pct == pytest.approx(worst, abs=0.1)


@pytest.mark.parametrize(("run", "chosen"), [(OLD, "queueing"), (WRK, "fit")])
def test_the_prediction_takes_the_model_with_the_smaller_held_out_error(run, chosen, tmp_path):
    data = prediction(run, 2_000, [1, 2], groups=recorded(run))
    assert data["model"] == chosen and data["status"] == "PREDICTED"
    errors = {"fit": data["loo_mean_pct"], "queueing": data["queueing_loo_mean_pct"]}
    assert errors[chosen] == min(errors.values())
    assert data["answer"] == data["answers"][chosen]
    shutil.copy(run / "run.json", tmp_path / "run.json")
    FindResult.save(tmp_path, data)
    write_find_report(tmp_path)
    first = (tmp_path / "summary.md").read_text().splitlines()[0]
    name = {"fit": "empirical fit", "queueing": "queueing model"}[chosen]
    assert f"PREDICTED from {data['knees']} valid knees, by the {name}, held-out error" in first
    assert first.count("held-out error") == 2  # both models' errors


def test_a_prediction_without_cpu_measured_is_the_fit_alone():
    groups = {slug: [r.model_copy(update={"steps": [{k: v for k, v in s.items() if "cpu_cores" not in k}
                                                    for s in r.steps]}) for r in ramps]
              for slug, ramps in recorded(OLD).items()}
    data = prediction(OLD, 2_000, [1, 2], groups=groups)
    assert "model" not in data and "queueing" not in data and data["status"] == "PREDICTED"


def test_the_committed_prediction_renders_as_before(tmp_path):
    committed = ROOT / "results" / "20261130-predict10000"
    out = tmp_path / "results" / committed.name
    shutil.copytree(committed, out)
    assert "model" not in json.loads((out / "find.json").read_text())
    write_find_report(out)
    assert (out / "summary.md").read_text().replace(str(out), f"results/{committed.name}") == \
        (committed / "summary.md").read_text()
