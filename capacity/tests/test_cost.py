"""CPU per request from cgroup samples: a recorded docker cell (1 x 0.5 CPU, 500 Locust users, 2026-12-06), the
request counters' parsers, cgroup v1 files, and the generators' equivalence tolerances and repeats."""

import json
from pathlib import Path

import pytest

import labtools.cgroup
from capacity.backends.docker.throttle import api_requests, lb_requests
from capacity.core.samples import THROTTLE_CSV
from capacity.measure.cost import bench_reference, cell_cost, container_cost, step_cost
from capacity.measure.steps import history_file, load_window, read_history
from capacity.measure.throttle import read_throttle
from capacity.report.equivalence import write_summary
from capacity.search.equivalence import agree, pairs, sweep_dir

DATA = Path(__file__).parent / "data"
CELL = DATA / "cost-cell"
ROOT = Path(__file__).resolve().parents[2]

METRICS = """# HELP http_requests_total HTTP requests by route, method and status
# TYPE http_requests_total counter
http_requests_total{method="GET",route="/ready",status="200"} 7.0
http_requests_total{method="POST",route="/predict",status="200"} 1200.0
http_requests_total{method="POST",route="/predict",status="422"} 3.0
http_requests_total{method="POST",route="/predict/batch",status="200"} 40.0
http_requests_total{method="GET",route="/model-info",status="200"} 57.0
http_requests_total{method="GET",route="/metrics",status="200"} 2.0
"""
STUB_STATUS = ("Active connections: 3 \nserver accepts handled requests\n 12 12 25306 \n"
               "Reading: 0 Writing: 1 Waiting: 2 \n")


def test_the_recorded_cell_costs_its_cgroup_usage_over_the_requests_its_replica_counted():
    rows = read_throttle(CELL)
    start, end = load_window(CELL)
    cost = cell_cost(rows, start, end)
    api = [r for r in rows if r["role"] == "api"]
    counted = [r["requests"] for r in api if r["requests"] is not None]
    in_load = [r for r in api if start <= r["timestamp"] <= end + 1]
    usage = in_load[-1]["usage_usec"] - in_load[0]["usage_usec"]
    assert cost["api_requests"] == counted[-1] - counted[0] == 25_283  # the replica's own /metrics, read twice
    assert cost["api_us_per_request"] == round(usage / 25_283, 1) == 245.3
    assert cost["lb_requests"] == 25_306 and cost["lb_us_per_request"] == 163.3
    assert 0 < cost["api_idle_cores"] < 0.002  # the replica before the load: results/idle's budget
    assert cost["api_throttled_share"] == 0.0  # 0.5 CPU for ~280 req/s: never throttled
    assert [r["container"] for r in cost["api_replicas_cost"]] == ["88ad0e6c1ccd"]


def test_a_step_takes_the_generators_count_for_its_window():
    rows = read_throttle(CELL)
    history = read_history(history_file(CELL))
    t0, t1 = history[20].t, history[80].t
    requests = history[80].requests - history[20].requests
    step = step_cost(rows, t0, t1, requests)
    api = container_cost([r for r in rows if r["role"] == "api"], t0, t1, requests)
    assert step["api_us_per_request"] == api["us_per_request"]
    assert 100 < step["api_us_per_request"] < 400 and 50 < step["lb_us_per_request"] < 300


def test_no_usage_columns_no_cost(tmp_path):
    """A throttle.csv from before the CPU columns (2026-11-30 runs): throttling still reads, no cost invented."""
    (tmp_path / THROTTLE_CSV).write_text("timestamp,container,nr_periods,nr_throttled\n100,a,1000,10\n110,a,1100,60\n")
    assert cell_cost(read_throttle(tmp_path), 100, 110) == {}


def test_request_counters_parse_what_the_api_and_nginx_print():
    assert api_requests(METRICS) == 1200 + 3 + 40 + 57  # predictions of every status; not /ready or /metrics
    assert api_requests(METRICS, routes=None) == 7 + 1200 + 3 + 40 + 57 + 2  # every route (the idle stack test)
    assert lb_requests(STUB_STATUS) == 25_306
    with pytest.raises(ValueError):
        lb_requests("<html>not stub_status</html>")


def test_cgroup_v1_counters_read_as_v2_names(tmp_path, monkeypatch):
    cid = "abc123"
    (tmp_path / "cpu" / "docker" / cid).mkdir(parents=True)
    (tmp_path / "cpuacct" / "docker" / cid).mkdir(parents=True)
    (tmp_path / "cpu" / "docker" / cid / "cpu.stat").write_text(
        "nr_periods 40\nnr_throttled 7\nthrottled_time 296385000\n")
    (tmp_path / "cpuacct" / "docker" / cid / "cpuacct.usage").write_text("2726273000\n")
    monkeypatch.setattr(labtools.cgroup, "CGROUP", tmp_path)
    stat = labtools.cgroup.container_cpu(cid)
    assert (stat["usage_usec"], stat["throttled_usec"], stat["nr_throttled"]) == (2_726_273, 296_385, 7)
    assert labtools.cgroup.container_cpu("missing") is None


def test_make_bench_reference_is_its_newest_run():
    ref = bench_reference(ROOT / "results" / "bench")
    assert ref is not None and ref["source"].startswith("results/bench/") and ref["api_us_per_request"] > 0


@pytest.mark.parametrize(("locust", "wrk", "kind", "ok"), [
    (1000, 1049, "rps", True), (1000, 1051, "rps", False),
    (100, 109, "cost", True), (100, 111, "cost", False),
    (2, 11, "latency", True), (100, 119, "latency", True), (100, 125, "latency", False)])
def test_equivalence_tolerances(locust, wrk, kind, ok):
    assert agree(locust, wrk, kind) is ok


def _recorded_cell(folder: Path, status: str, rps: float, us: float, p95: float) -> None:
    """A recorded equivalence cell (1 x 0.5 CPU, Locust, 1,000 users, 2026-12-06) with the given figures."""
    record = json.loads((DATA / "equivalence-cell" / "cell.json").read_text())
    record["status"] = status
    record["metrics"].update(rps_mean=rps, api_us_per_request=us, p50_ms=1.0, p95_ms=p95)
    (folder / record["cell"]["slug"]).mkdir(parents=True)
    (folder / record["cell"]["slug"] / "cell.json").write_text(json.dumps(record))


def test_equivalence_compares_medians_of_valid_repeats_and_writes_their_spread(tmp_path):
    # The API's CPU per request at light load moved 2-17% between runs of one generator: one run can disagree
    # (253 vs 208 us), the medians of three agree. An INVALID run (Locust measuring itself) is left out.
    runs = {"locust": [("pass", 545, 253, 10), ("pass", 546, 218, 9), ("pass", 544, 225, 11),
                       ("invalid", 500, 400, 150)],
            "wrk": [("pass", 544, 208, 2), ("pass", 545, 222, 3), ("pass", 543, 231, 2)]}
    for generator, figures in runs.items():
        for k, (status, rps, us, p95) in enumerate(figures, start=1):
            _recorded_cell(sweep_dir(tmp_path, 1000, generator, k), status, rps, us, p95)
    (pair,) = pairs(tmp_path, [1000])
    assert len(pair.locust) == 4 and len(pair.wrk) == 3
    assert pair.both("api_us_per_request") == (225, 222) and pair.both("p95_ms") == (10, 2)
    assert pair.agrees and pair.checks()["api_us_per_request"]
    write_summary(tmp_path, [1000])
    text = (tmp_path / "summary.md").read_text()
    assert text.startswith("**1 of 1 cell(s) agree** (Locust / wrk, median of up to 4 runs each")
    assert "225 (218-253) / 222 (208-231) ✓" in text and "pass, pass, pass, invalid / pass, pass, pass" in text
    saved = json.loads((tmp_path / "equivalence.json").read_text())[0]
    assert saved["median"]["wrk"]["api_us_per_request"] == 222 and len(saved["locust"]) == 4
