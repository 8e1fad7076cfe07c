"""`redline` and `find` end to end through the native backend: real API processes, real Locust, real reports.

Bounded: one configuration (1 replica, 1 core), a few users, seconds per step or cell. Checks the files and
the records the commands promise, not the verdicts: the machine is shared, so a measurement may be INVALID
(the generator waited for a CPU), and then it must say so instead of passing or failing.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from labtools import QUIET_ENV

ROOT = Path(__file__).resolve().parents[1]
SLUG = "cpu1-mem512M-x1-p1"


def _run(args: list[str], trained_model, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "MODEL_NAME": trained_model.name, "MODEL_ALIAS": trained_model.alias,
           "CAPACITY_SAMPLE_INTERVAL_S": "1", "CAPACITY_READY_TIMEOUT_S": "90", **QUIET_ENV}
    cmd = [sys.executable, "-m", "capacity", *args, "--backend", "native", "--tracking-uri",
           trained_model.tracking_uri, "--no-progress"]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.integration
def test_native_find_end_to_end(trained_model, tmp_path):
    out = tmp_path / "find"
    args = ["find", "--users", "20", "--grid", "capacity/grids/smoke.toml", "--cpus", "1", "--replicas", "1",
            "--repeats", "2", "--duration", "8", "--out", str(out)]
    result = _run(args, trained_model, timeout=400)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    data = json.loads((out / "find.json").read_text())
    summary = (out / "summary.md").read_text()
    assert summary.startswith("**") and "20 users" in summary.splitlines()[0], summary
    startup = json.loads((out / "startup" / SLUG / "startup.json").read_text())
    assert startup["ready_s"] > 0 and startup["peak_mem_mb"] > 20, startup

    assert data["log"][0]["folder"] == f"probe-{SLUG}"
    for entry in data["log"]:
        assert (out / entry["folder"] / "cell.json").is_file() and entry["status"] in {"pass", "fail", "invalid"}
        assert entry["status"] != "invalid" or entry["reasons"], entry  # an invalid cell says why
    if data["status"] == "INVALID":  # the probe's generator starved: no search, no answer, no failure
        assert data["answer"] is None and len(data["log"]) == 1
        return
    assert re.fullmatch(r"\d+M", data["memory"]) and data["memory"] != "512M"  # sized from the probe's peaks
    assert data["cells"] == len(data["log"]) >= 3  # the probe + the boundary measured twice
    assert data["grid_cells"] == 1
    assert (out / "cost_vs_p95.png").read_bytes()[:4] == b"\x89PNG"
    if data["status"] == "CONFIRMED":
        assert data["answer"] == {"replicas": 1, "cpus": 1.0, "memory": data["memory"], "total_cpus": 1.0}
        assert "CONFIRMED" in summary.splitlines()[0]

    # Resumable: the same --out measures nothing new and gives the same answer.
    again = _run(args, trained_model, timeout=200)
    assert again.returncode == result.returncode, again.stderr
    assert json.loads((out / "find.json").read_text())["log"] == data["log"]


@pytest.mark.integration
def test_native_redline_end_to_end(trained_model, tmp_path):
    out = tmp_path / "redline"
    result = _run(["redline", "capacity/grids/redline-smoke.toml", "--out", str(out)], trained_model, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    knee = json.loads((out / f"{SLUG}-r1" / "knee.json").read_text())
    assert knee["step_users"] == 10 and knee["kind"] in {"knee", "lower bound", "none"}
    assert [s["users"] for s in knee["steps"]][:1] == [10]
    for step in knee["steps"]:
        assert step["status"] in {"pass", "fail", "invalid"} and step["requests"] > 0, step
        assert step["api_cpu_cores_mean"] is not None and step["api_mem_peak_mb"] > 20, step
    summary = (out / "summary.md").read_text()
    assert summary.startswith("**Knees: 1 configuration(s) measured"), summary
    assert (out / "knees.csv").read_text().startswith("slug,")
    for png in ("capacity_vs_cpu.png", "headroom.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG", png
