"""Knees -> fit -> prediction -> reports, on a redline run folder assembled from the recorded native ramp.

The recorded ramp's steps are INVALID (Locust starved for CPU on the 2 shared cores); to walk the knee path the
validity check is replaced by an always-valid one here, and the SLO is p95 <= 700 ms, so each copy's knee is the
900-user step."""

import json
import shutil
from pathlib import Path

import pytest

import capacity.measure.ramp as redline
from capacity.campaign.run import open_search_run, read_run
from capacity.core.cells import Cell
from capacity.core.grid import GridError, parse_grid
from capacity.measure.validation import Validity
from capacity.report.search import write_find_report, write_redline_report
from capacity.search.knees import configurations, prediction, ruled_out

DATA = Path(__file__).parent / "data" / "ramp_native"
GRID = {"name": "recorded", "grid": {"cpus": [0.5, 1.0], "memory": ["256M"], "replicas": [1, 2]},
        "load": {"users": 1500, "spawn_rate": 100, "shape": "ramp", "step_users": 300, "step_duration": "15s",
                 "hold": 0, "wait_min": 0.05, "wait_max": 0.1, "workers": 0}, "slo": {"p95_ms": 700}}


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(redline, "measurement_validity", lambda *a, **k: Validity(True))
    grid = parse_grid(GRID)
    open_search_run(tmp_path, "redline", grid, "native", ["recorded"], {"repeats": 1, "step": 300,
                                                                         "target_users": 10_000})
    for i, (cpus, replicas) in enumerate([(0.5, 1), (1.0, 1), (0.5, 2)], start=1):
        cell = Cell(i, cpus, "256M", replicas, 1)
        folder = tmp_path / f"{cell.slug}-r1"
        shutil.copytree(DATA, folder)
        record = json.loads((folder / "cell.json").read_text()) | {"cell": cell.as_dict()}
        (folder / "cell.json").write_text(json.dumps(record))
        (folder / "knee.json").write_text(json.dumps({"cell": cell.as_dict(), "step_users": 300}))
    return tmp_path


def test_configurations_carry_the_knee_and_its_numbers(run_dir):
    configs = configurations(run_dir)
    assert [c["label"] for c in configs] == ["1 x (0.5 CPU, 256M)", "1 x (1 CPU, 256M)", "2 x (0.5 CPU, 256M)"]
    for c in configs:
        assert (c["kind"], c["users"], c["repeats"]) == ("knee", 900, 1)
        assert c["rps"] > 0 and c["p95_ms"] <= 700 and c["api_mem_peak_mb"] > 50
    assert configs[2]["total_memory_mb"] == 512


def test_reports_and_charts(run_dir):
    write_redline_report(run_dir)
    summary = (run_dir / "summary.md").read_text()
    assert summary.startswith("**Knees: 3 configuration(s) measured, 3 real knee(s)")
    assert "leave-one-out" in summary and "find --users 10000 --predict" in summary
    for png in ("capacity_vs_cpu.png", "headroom.png"):
        assert (run_dir / png).read_bytes()[:4] == b"\x89PNG"


def test_prediction_within_and_out_of_range(run_dir, tmp_path_factory):
    far = prediction(run_dir, 10_000, [1, 2, 4])
    assert far["status"] == "OUT OF RANGE" and far["answer"] is None  # the recorded knees are flat in CPU
    near = prediction(run_dir, 500, [1, 2])
    assert near["status"] == "PREDICTED" and near["knees"] == 3 and near["loo_mean_pct"] is not None
    assert near["answer"]["replicas"] == 1 and near["answer"]["memory"].endswith("M")
    out = tmp_path_factory.mktemp("prediction")
    open_search_run(out, "find", parse_grid(GRID), "prediction", [], {"users": 500, "predict": True})
    (out / "find.json").write_text(json.dumps(near))
    write_find_report(out)
    first = (out / "summary.md").read_text().splitlines()[0]
    assert first.startswith("**500 users (~") and "PREDICTED from 3 valid knees" in first
    assert "python -m capacity find --users 500 --replicas 1" in first


def test_a_prediction_out_of_range_says_what_to_change():
    from capacity.report.search import answer_line

    data = {"users": 10_000, "status": "OUT OF RANGE", "answer": None, "loo_mean_pct": 71.7,
            "fit": "req/s = 3,978 x total CPU -70 (3 knees; leave-one-out error mean 71.7%, worst 153.3%)"}
    line = answer_line(data, None, "docker", 3)
    assert line.startswith("**10,000 users: OUT OF RANGE") and "--replicas 1,2,4,8" in line and "72%" in line


def test_a_redline_run_raises_its_ceiling_only_while_no_ramp_reached_it(run_dir):
    grid = parse_grid(GRID)
    higher = grid.model_copy(update={"load": grid.load.model_copy(update={"users": grid.load.users + 1000})})
    params = {"repeats": 1, "step": 300, "target_users": 10_000}
    run = open_search_run(run_dir, "redline", higher, "native", [], params)
    assert run["grid"]["load"]["users"] == grid.load.users + 1000
    assert "3 ramp(s) measured before all ended below" in run["history"][0]
    lower = grid.model_copy(update={"load": grid.load.model_copy(update={"spawn_rate": 1})})
    with pytest.raises(GridError, match="different `load` table"):
        open_search_run(run_dir, "redline", lower, "native", [], params)
    knee = run_dir / "cpu0.5-mem256M-x1-p1-r1" / "knee.json"
    knee.write_text(json.dumps({"ended_by": "max users 3,000 held"}))
    highest = higher.model_copy(update={"load": higher.load.model_copy(update={"users": grid.load.users + 2000})})
    with pytest.raises(GridError, match="cpu0.5-mem256M-x1-p1-r1 reached the old ceiling"):
        open_search_run(run_dir, "redline", highest, "native", [], params)


def test_knees_rule_out_the_configurations_that_failed_at_n_users_or_fewer(run_dir):
    grid = read_run(run_dir)["grid"]
    slo, load = grid["slo"], grid["load"]
    assert ruled_out(run_dir, 1_200, slo, load) == {1: 1.0, 2: 0.5}  # every ramp held 900 and failed at 1,200
    assert ruled_out(run_dir, 1_199, slo, load) == {}
    with pytest.raises(ValueError, match="another SLO or think time"):
        ruled_out(run_dir, 1_200, slo | {"p95_ms": slo["p95_ms"] * 2}, load)
    with pytest.raises(ValueError, match="another SLO or think time"):
        ruled_out(run_dir, 1_200, slo, load | {"wait_min": 0.1})


def test_the_find_report_names_what_the_knees_ruled_out(tmp_path):
    open_search_run(tmp_path, "find", parse_grid(GRID), "native", [], {"users": 1_200, "knees": "results/r"})
    data = {"users": 1_200, "status": "NOT FOUND", "cells": 0, "answer": None, "log": [], "knees_run": "results/r",
            "ruled_out": {"1": 1.0, "2": 0.5}}
    (tmp_path / "find.json").write_text(json.dumps(data))
    write_find_report(tmp_path)
    assert ("Ruled out unmeasured by the knees of `results/r` (every ramp failed at 1,200 users or fewer): "
            "1 x <= 1 CPU, 2 x <= 0.5 CPU.") in (tmp_path / "summary.md").read_text()
