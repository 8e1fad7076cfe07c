"""Summary of a run from Locust's CSV files, and generator-health judgement."""

import json
import shutil
from pathlib import Path

import pytest

from loadtest.summary import find_prefix, main, summarize

DATA = Path(__file__).parent / "data"


@pytest.fixture
def run_dir(tmp_path, request):
    target = tmp_path / request.param
    shutil.copytree(DATA / request.param, target)
    return target


@pytest.mark.parametrize("run_dir", ["run_ok"], indirect=True)
def test_healthy_run(run_dir):
    s = summarize(run_dir)
    assert s["valid"] is True and s["reason"] is None
    assert (s["requests"], s["failures"], s["error_pct"]) == (1440, 0, 0.0)
    assert s["rps_mean"] == 96.0 and s["rps_max"] == 120.0
    assert s["latency_ms"] == {"avg": 5.0, "p50": 4.0, "p95": 12.0, "p99": 25.0, "max": 60.0}
    assert s["users_reached"] == 200 and s["duration_s"] == 15 and s["history_points"] == 5
    assert [e["name"] for e in s["endpoints"]] == ["/model-info", "/predict [legacy]", "/predict [natural]",
                                                   "/predict/batch"]
    assert s["failure_kinds"] == []
    assert s["quality"] == {"checked": 2520, "mismatches": 21, "accuracy": 0.9917}
    gen = s["generator"]
    assert (gen["workers"], gen["samples"], gen["cpu_max_pct"], gen["cpu_mean_pct"]) == (2, 3, 41.0, 38.2)


@pytest.mark.parametrize("run_dir", ["run_hot"], indirect=True)
def test_saturated_generator_is_not_valid(run_dir):
    s = summarize(run_dir)
    assert s["valid"] is False
    assert "local used 97.5% of a CPU (limit 90%)" in s["reason"]
    assert "Locust warned" in s["reason"]
    assert s["error_pct"] == 2.5 and s["failures"] == 25
    assert {f["error"]: f["occurrences"] for f in s["failure_kinds"]} == {"HTTP 503": 20,
                                                                         "ConnectionResetError(104)": 5}


@pytest.mark.parametrize("run_dir", ["run_ok"], indirect=True)
def test_threshold_and_log_warnings(run_dir):
    assert summarize(run_dir, cpu_threshold=40)["valid"] is False
    (run_dir / "master.log").write_text(
        "[2025-11-23 11:00:05] master/INFO/locust.main: Starting Locust\n"
        "[2025-11-23 11:00:09] master/WARNING/locust.runners: Worker vm_1a2b (index 0) exceeded cpu threshold "
        "(will only log this once per worker)\n")
    s = summarize(run_dir)
    assert s["valid"] is False and "1 Locust CPU warning line(s)" in s["reason"]
    assert "exceeded cpu threshold" in s["generator"]["log_warnings"][0]


@pytest.mark.parametrize("run_dir", ["run_ok"], indirect=True)
def test_no_generator_files_is_valid_with_a_note(run_dir):
    for f in run_dir.glob("*_generator.*"):
        f.unlink()
    s = summarize(run_dir)
    assert s["valid"] is True and s["quality"] is None and s["generator"]["note"]


@pytest.mark.parametrize("run_dir", ["run_hot"], indirect=True)
def test_cli_writes_json_and_markdown(run_dir, capsys):
    assert main([str(run_dir)]) == 0
    assert "valid=False" in capsys.readouterr().out
    s = json.loads((run_dir / "summary.json").read_text())
    assert s["run"] == "run_hot" and s["valid"] is False
    md = (run_dir / "summary.md").read_text()
    assert "**NOT VALID**" in md and "| POST /predict [natural] | 1000 | 25 |" in md and "HTTP 503" in md


def test_prefix_must_be_unique(tmp_path):
    with pytest.raises(FileNotFoundError):
        find_prefix(tmp_path)


@pytest.mark.parametrize("run_dir", ["run_ok"], indirect=True)
def test_offered_against_delivered_over_the_steady_part(run_dir):
    # 200 users from t=6 to t=15: 840 requests in 9 s at 5 ms mean; 200 / (1.75 + 0.005) = 114 req/s offered.
    verdict = summarize(run_dir)["generator"]["verdict"]
    assert verdict["verdict"] == "VALID"
    assert (verdict["delivered_rps"], verdict["offered_rps"], verdict["ratio"]) == (93.3, 114.0, 0.819)
    run = json.loads((run_dir / "locust_generator.json").read_text())
    (run_dir / "locust_generator.json").write_text(json.dumps({**run, "think_time_s": 1.0}))
    s = summarize(run_dir)  # 200 / 1.005 = 199 req/s offered, 93 delivered
    assert s["valid"] is False and s["reason"] == "offered 199 req/s, delivered 93 (47%)"


@pytest.mark.parametrize("run_dir", ["run_ok"], indirect=True)
def test_a_worker_waiting_for_a_cpu_makes_the_run_invalid(run_dir):
    csv_path = run_dir / "locust_generator.csv"
    lines = csv_path.read_text().splitlines()
    rows = [lines[0] + ",runqueue_pct", lines[1] + ",41.0", lines[2] + ",0.5", lines[3] + ",3.0"]
    csv_path.write_text("\n".join(rows) + "\n")
    s = summarize(run_dir)
    assert s["valid"] is False
    assert s["reason"].endswith("worker 1 (vm_1a2b) waited for a CPU 41% of the time")
