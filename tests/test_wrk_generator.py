"""The wrk generator (wrk/wrkload) on a short real run against the real API: its Lua script, its parsing, the
request mix and think time read back from its own Locust-format files. No timing assertions.

Runs `python -m wrkload` as a subprocess (PYTHONPATH wrk:locust, as inside its image), 200 users, 15 s.
"""

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loadtest.settings import Settings
from loadtest.summary import summarize

ROOT = Path(__file__).resolve().parents[1]
USERS, SPAWN_RATE, DURATION_S = 200, 100, 15


def _wrkload(*args: str, env: dict) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": f"{ROOT / 'wrk'}:{ROOT / 'locust'}", **env}
    return subprocess.run([sys.executable, "-m", "wrkload", *args], env=full, capture_output=True, text=True,
                          timeout=DURATION_S + 120, cwd=ROOT)


def _wrkload_watched(*args: str, env: dict, history: Path) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """Run wrkload; the history file's rows as first seen while it still ran (what a ramp's watcher reads)."""
    full = {**os.environ, "PYTHONPATH": f"{ROOT / 'wrk'}:{ROOT / 'locust'}", **env}
    proc = subprocess.Popen([sys.executable, "-m", "wrkload", *args], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    early: list[dict] = []
    try:
        deadline = time.monotonic() + DURATION_S + 120
        while proc.poll() is None and not history.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        if proc.poll() is None and history.exists():
            early = _rows(history)
        out, err = proc.communicate(timeout=DURATION_S + 120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), early


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.integration
def test_wrk_run_against_the_real_api(api_server, tmp_path):
    results = tmp_path / "wrk-run"
    out = _wrkload("run", "--host", api_server.base_url, "--users", str(USERS), "--spawn-rate", str(SPAWN_RATE),
                   "--duration", str(DURATION_S), "--csv", str(results / "locust"), "--summary",
                   env={"LOCUST_SHAPE": "none", "WRK_SAMPLE_INTERVAL_S": "2"})
    assert out.returncode == 0, out.stdout + out.stderr
    summary = summarize(results)
    assert summary["requests"] > 0 and summary["failures"] == 0, summary["failure_kinds"]
    assert summary["users_reached"] == USERS

    # The mix: answers per name against the task weights and the legacy share (binomial, 6 sigma).
    s = Settings()
    counts = {e["name"]: e["requests"] for e in summary["endpoints"]}
    total = sum(counts.values())
    weights = s.weight_predict + s.weight_batch + s.weight_model_info
    expected = {"/predict [natural]": s.weight_predict / weights * (1 - s.legacy_share),
                "/predict [legacy]": s.weight_predict / weights * s.legacy_share,
                "/predict/batch": s.weight_batch / weights, "/model-info": s.weight_model_info / weights}
    for name, share in expected.items():
        sigma = (total * share * (1 - share)) ** 0.5
        assert abs(counts.get(name, 0) - total * share) < 6 * sigma + 5, (name, counts, total)

    # Think time: requests per user per second at full strength ~ 1 / (think + latency) (closed loop).
    hist = [r for r in _rows(results / "locust_stats_history.csv") if r["Name"] == "Aggregated"]
    full = [r for r in hist if int(r["User Count"]) == USERS]
    first, last = full[0], full[-2]
    rate = (int(last["Total Request Count"]) - int(first["Total Request Count"])) / (
        int(last["Timestamp"]) - int(first["Timestamp"]))
    latency_s = summary["latency_ms"]["avg"] / 1000
    per_user = rate / USERS
    assert 0.6 < per_user * (s.think_time_s + latency_s) < 1.4, (per_user, latency_s)

    # Validity reads wrk's threads as it reads Locust's processes.
    gen = summary["generator"]
    assert gen["samples"] >= 1 and gen["cpu_max_pct"] is not None
    record = json.loads((results / "locust_generator.json").read_text())
    assert record["generator"] == "wrk" and record["validated"] > 0 and record["wrk_cpu_s"] > 0
    print(json.dumps({"rps": rate, "per_user": per_user, "counts": counts, "latency": summary["latency_ms"],
                      "generator": gen["verdict"]}))


@pytest.mark.integration
def test_wrk_ramp_segments_against_the_real_api(api_server, tmp_path):
    """Two ramp steps = two wrk processes: the second starts the first step's users steady, adds 50 more; the
    history is written after each step, so a watcher judges a finished step before the run ends."""
    results = tmp_path / "wrk-ramp"
    out, early = _wrkload_watched("run", "--host", api_server.base_url, "--shape", "ramp", "--step-users", "50",
                                  "--step-duration", "6", "--max-users", "100", "--hold", "4", "--spawn-rate", "50",
                                  "--csv", str(results / "locust"), env={"WRK_SAMPLE_INTERVAL_S": "2"},
                                  history=results / "locust_stats_history.csv")
    assert out.returncode == 0, out.stdout + out.stderr
    # The first step's history is on disk while the second step runs (capacity's early stop reads it then).
    assert early and max(int(r["User Count"]) for r in early) == 50, early[-1:]
    record = json.loads((results / "locust_generator.json").read_text())
    assert [(s["present"], s["new"]) for s in record["segments"]] == [(0, 50), (50, 50)]
    assert len(record["boundary_gaps_s"]) == 1
    hist = [r for r in _rows(results / "locust_stats_history.csv") if r["Name"] == "Aggregated"]
    assert {int(r["User Count"]) for r in hist} >= {50, 100}
    assert int(hist[-1]["Total Request Count"]) > 0 and int(hist[-1]["Total Failure Count"]) == 0
    # Each step's rows carry that step's exact percentiles (one wrk histogram per step).
    p95 = {int(r["User Count"]): r["95%"] for r in hist if r["User Count"] in ("50", "100")}
    assert len(p95) == 2 and all(v != "N/A" and float(v) > 0 for v in p95.values()), p95


@pytest.mark.integration
def test_a_wrk_that_dies_of_a_signal_is_measured_again(api_server, tmp_path):
    # Debian's wrk died of SIGSEGV in LuaJIT while done() wrote its histogram (2026-12-06 and -07): its partial
    # output is not read, the segment runs once more, and the dead one's seconds get no history rows.
    wrapper, mark = tmp_path / "wrk-crashes-once", tmp_path / "crashed"
    wrapper.write_text(f'#!/bin/sh\nif [ ! -e "{mark}" ]; then : > "{mark}"; kill -SEGV $$; fi\nexec wrk "$@"\n')
    wrapper.chmod(0o755)
    results = tmp_path / "wrk-crash"
    out = _wrkload("run", "--host", api_server.base_url, "--users", "50", "--spawn-rate", "50", "--duration", "5",
                   "--csv", str(results / "locust"), env={"LOCUST_SHAPE": "none", "WRK_BINARY": str(wrapper)})
    assert out.returncode == 0, out.stdout + out.stderr
    dead, again = json.loads((results / "locust_generator.json").read_text())["segments"]
    assert dead["crashed"] and dead["returncode"] == -11 and dead["requests"] == 0
    assert not again["crashed"] and again["returncode"] == 0 and again["requests"] > 0
    rows = _rows(results / "locust_stats_history.csv")
    assert rows and all(int(r["Timestamp"]) >= int(again["started"]) for r in rows)
    assert int(rows[-1]["Total Request Count"]) > 0
