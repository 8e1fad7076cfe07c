"""The queueing model (search.queueing): MVA against its closed-form limits, the cost fit and the held-out knees on
recorded ramps, and the prediction taking the model with the smaller held-out error (no timing, no mocks).

data/queueing-20261130/: run.json and five knee.json files of results/20261130-redline (docker stats' CPU; Locust):
real knees of 1 x 0.05, 1 x 0.1, 1 x 0.15 and 2 x 0.1 CPU, and a lower bound of 2 x 0.15 CPU.
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
from capacity.search.cost_curve import Cost, fit_cost, step_us_per_request
from capacity.search.knees import knees_and_model, prediction

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "queueing-20261130"


def recorded(*leave_out: str) -> dict[str, list[KneeRecord]]:
    """The fixture's ramps per configuration, as their knee.json judged them."""
    groups: dict[str, list[KneeRecord]] = {}
    for path in sorted(DATA.glob("*/knee.json")):
        ramp = KneeRecord.read(path.parent)
        if ramp.cell.slug not in leave_out:
            groups.setdefault(ramp.cell.slug, []).append(ramp)
    return groups


def test_mva_of_one_user_is_its_own_demand():
    n, response, rate = next(queueing.mva(0.01, 1.0))
    assert (n, response) == (1, 0.01) and rate == pytest.approx(1 / 1.01)


def test_mva_of_many_users_saturates_the_server():
    demand, think = 0.01, 1.0  # saturates near (D + Z) / D = 101 users
    n, response, rate = list(islice(queueing.mva(demand, think), 1000))[-1]
    assert n == 1000 and rate == pytest.approx(1 / demand, rel=1e-6)
    assert response == pytest.approx(n * demand - think, rel=1e-6)


def test_the_cost_prefers_the_cgroup_and_falls_back_to_docker_stats():
    assert step_us_per_request({"api_us_per_request": 95.0, "api_cpu_cores": 1.0}) == 95.0
    assert step_us_per_request({"api_cpu_cores": 0.2, "delivered_rps": 1000}) == pytest.approx(200)
    assert step_us_per_request({"api_cpu_cores_mean": 0.1, "delivered_rps": 500}) == pytest.approx(200)
    assert step_us_per_request({"delivered_rps": 500}) is None


def test_the_cost_fit_on_recorded_steps():
    ramps = [r for ramps in recorded().values() for r in ramps]
    overhead, power = fit_cost(ramps, "overhead"), fit_cost(ramps, "power")
    assert overhead.steps == power.steps == 30  # the passing steps of the five ramps
    a, b = overhead.coef
    assert 200 < a < 300 and b > 0  # ~250 us once requests come back to back (Locust era), more at low rates
    assert -1 < power.coef[1] < 0  # falling with the rate, more slowly than the rate grows
    for cost in (overhead, power):  # the saturation rate is where the cost fills the quota
        rate = cost.saturation_rps(0.1)
        assert cost.us_per_request(rate) * rate / 1e6 == pytest.approx(0.1)
        assert cost.us_per_request(100) > cost.us_per_request(1000)
        assert cost.saturation_rps(2.0) == cost.saturation_rps(1.0)  # one server process uses one core at most
    assert overhead.saturation_rps(0.01) == 0.0  # the overhead alone spends the quota
    with pytest.raises(ValueError, match="needs passing steps at 2 rates"):
        fit_cost([], "power")


def test_the_knee_grows_with_cpu_and_stops_short_of_saturation():
    cost, loop = Cost("overhead", (100.0, 10_000.0), 1), queueing.Loop(1.75, 500.0)
    users, rps = queueing.knee(cost, queueing.Replica(0.5, 100), 1, loop)
    assert rps < cost.saturation_rps(0.5) and users == pytest.approx(rps * 1.75, rel=0.2)
    assert queueing.knee(cost, queueing.Replica(0.5, 100), 2, loop)[0] == 2 * users
    assert queueing.knee(cost, queueing.Replica(1.0, 100), 1, loop)[0] > users
    assert queueing.knee(cost, queueing.Replica(0.5, 10), 1, loop)[0] >= users  # a shorter CFS stall
    assert queueing.holds(cost, queueing.Replica(0.5, 100), users, 1, loop)
    assert not queueing.holds(cost, queueing.Replica(0.5, 100), users + 1, 1, loop)


def test_each_configuration_held_out_on_recorded_ramps():
    rows, model = knees_and_model(DATA, recorded())
    held = {h.label: h for h in model.held_out}
    assert len(held) == 5 and held["2 x (0.15 CPU, 256M)"].error_pct is None  # a lower bound is never scored
    tenth = held["1 x (0.1 CPU, 256M)"]
    assert (tenth.measured_users, tenth.predicted_users, tenth.step_users) == (500, 500, 100)
    assert tenth.error_pct < 2
    assert held["1 x (0.05 CPU, 256M)"].error_pct > 50  # its throttled replica served more than the cost says
    assert model.loo_mean_pct == pytest.approx(16.3, abs=0.1) and model.loo_max_pct == pytest.approx(58.4, abs=0.1)
    power = queueing.model_of(recorded(), rows, model.loop, "power")  # 27.1% here: the overhead form is the model
    assert model.cost.form == "overhead" and power.loo_mean_pct > model.loo_mean_pct


@pytest.mark.parametrize(("leave_out", "chosen"), [((), "fit"), (("cpu0.05-mem256M-x1-p1",), "queueing")])
def test_the_prediction_takes_the_model_with_the_smaller_held_out_error(leave_out, chosen, tmp_path):
    data = prediction(DATA, 2_000, [1, 2], groups=recorded(*leave_out))
    assert data["model"] == chosen and data["status"] == "PREDICTED"
    errors = {"fit": data["loo_mean_pct"], "queueing": data["queueing_loo_mean_pct"]}
    assert errors[chosen] == min(errors.values())
    assert data["answer"] == data["answers"][chosen]
    shutil.copy(DATA / "run.json", tmp_path / "run.json")
    FindResult.save(tmp_path, data)
    write_find_report(tmp_path)
    first = (tmp_path / "summary.md").read_text().splitlines()[0]
    name = {"fit": "empirical fit", "queueing": "queueing model"}[chosen]
    assert f"PREDICTED from {data['knees']} valid knees, by the {name}, held-out error" in first
    assert first.count("held-out error") == 2  # both models' errors


def test_a_prediction_without_cpu_measured_is_the_fit_alone():
    groups = {slug: [r.model_copy(update={"steps": [{k: v for k, v in s.items() if "cpu_cores" not in k}
                                                    for s in r.steps]}) for r in ramps]
              for slug, ramps in recorded().items()}
    data = prediction(DATA, 2_000, [1, 2], groups=groups)
    assert "model" not in data and "queueing" not in data and data["status"] == "PREDICTED"


def test_the_committed_prediction_renders_as_before(tmp_path):
    committed = ROOT / "results" / "20261130-predict10000"
    out = tmp_path / "results" / committed.name
    shutil.copytree(committed, out)
    assert "model" not in json.loads((out / "find.json").read_text())
    write_find_report(out)
    assert (out / "summary.md").read_text().replace(str(out), f"results/{committed.name}") == \
        (committed / "summary.md").read_text()
