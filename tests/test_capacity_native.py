"""A 2-cell native capacity sweep end to end: real API processes (pinned), real Locust, the real report.

capacity/grids/smoke.toml: 1 and 2 replicas of 1 CPU / 512M, 50 users for 6 s each, against the registry
of the `trained_model` fixture. Checks the files a sweep promises, not the verdicts (the machine is shared).
"""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from capacity.core.records import CellRecord
from labtools import QUIET_ENV

ROOT = Path(__file__).resolve().parents[1]
CELLS = ("cpu1-mem512M-x1-p1", "cpu1-mem512M-x2-p1")


@pytest.mark.integration
def test_native_sweep_end_to_end(trained_model, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "MODEL_NAME": trained_model.name, "MODEL_ALIAS": trained_model.alias,
           "CAPACITY_SAMPLE_INTERVAL_S": "1", "CAPACITY_READY_TIMEOUT_S": "90", **QUIET_ENV}
    cmd = [sys.executable, "-m", "capacity", "sweep", "capacity/grids/smoke.toml", "--backend", "native",
           "--out", str(out), "--tracking-uri", trained_model.tracking_uri, "--no-progress"]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=400)
    assert result.returncode == 0, result.stdout + result.stderr

    summary_md = (out / "summary.md").read_text()
    assert summary_md.startswith("**Answer:"), summary_md
    assert "rounded UP" not in summary_md  # 1.0 CPU is a whole core
    with open(out / "summary.csv", newline="") as f:
        rows = {r["slug"]: r for r in csv.DictReader(f)}
    assert set(rows) == set(CELLS)
    for png in ("throughput.png", "p95.png", *(f"{c}/timeline.png" for c in CELLS)):
        assert (out / png).read_bytes()[:4] == b"\x89PNG", png

    for slug in CELLS:
        cell = out / slug
        for name in ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "resources.csv",
                     "report.html", "locust.log", "api-1.log"):
            assert (cell / name).is_file(), f"{slug}/{name}"
        record = CellRecord.read(cell)
        m = record.metrics
        assert record.finished and record.status in {"pass", "fail", "invalid"}
        assert m.requests > 0 and m.failures == 0, record
        assert m.error is None and m.oom_killed == 0, record
        assert m.api_cpu_peak_pct is not None and m.api_mem_peak_mb > 20, record
        assert m.generator_cpu_peak_pct is not None, record

    # Two replicas: the users were spread over both, and both were measured.
    two = out / CELLS[1]
    busiest: dict[str, float] = {}
    with open(two / "resources.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["role"] == "api":
                busiest[r["name"]] = max(busiest.get(r["name"], 0.0), float(r["cpu_pct"]))
    assert set(busiest) == {"api-1", "api-2"} and all(cpu > 0 for cpu in busiest.values()), busiest

    # Resumable: the same --out again runs nothing and keeps the records.
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert CellRecord.read(two).finished_at == record.finished_at
