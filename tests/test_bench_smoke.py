"""`python -m bench --smoke` against the trained model: it runs every variant and writes its report files.

Every variant includes MLServer and BentoML: their virtualenvs (bench/peers/*.lock) are built from PyPI on first
use into .venv/bench/, each uv step bounded by bench.venvs.BUILD_TIMEOUT_S, and reused afterwards.
No timing assertions: the targets live in the benchmark report, not in pass/fail tests.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"ours", "mlflow-serve", "usual", "mlserver", "mlserver-batch", "mlserver-invocations", "bentoml",
            "bentoml-batch", "ceiling"}
# Two peer virtualenvs to build on a cold cache (bounded per step), then nine servers started one after the other.
TIMEOUT_S = 2 * 2 * 600 + 900


@pytest.mark.integration
@pytest.mark.timeout(TIMEOUT_S + 60)  # its own bound, over pyproject's 600 s default
def test_bench_smoke_writes_report(trained_model, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--tracking-uri", trained_model.tracking_uri,
         "--model-name", trained_model.name, "--model-alias", trained_model.alias, "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, f"bench failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"

    [md] = tmp_path.glob("*-smoke.md")
    assert md.with_suffix(".png").stat().st_size > 0
    text = md.read_text()
    assert "| variant | req/s (16 conn) |" in text
    assert "| target | measured | bar | status | by how much |" in text
    assert "Locust FastHttpUser" in text
    assert "- **Code**: commit " in text
    assert "## How each server ran" in text
    assert "Not measured in this run (--smoke or --no-deployed)." in text

    with open(md.with_suffix(".csv"), newline="") as f:
        rows = {row["variant"]: row for row in csv.DictReader(f)}
    assert set(rows) == VARIANTS
    for row in rows.values():
        assert row["error"] == "", row
        assert float(row["rps"]) > 0 and float(row["rss_mb"]) > 0
        assert int(row["status_errors"]) == 0 and int(row["socket_errors"]) == 0
        # Every model server predicted our species for every check row (the ceiling has no model).
        assert row["predictions_match"] == ("n/a" if row["variant"] == "ceiling" else "yes"), row
