"""The one-off side-by-side in wrk/README.md: wrk vs Locust, 1,000 users, 60 s each, one native API process.

A measurement, not a test: its name keeps pytest's collection (and CI) off it; it takes ~3 minutes and both
cores. Run it on a quiet machine with `make compare-generators`
(.venv/bin/pytest -q -s tests/measure_wrk_vs_locust.py).
Prints one JSON line per generator: delivered req/s, p50/p95/p99, failures, generator CPU per request.
"""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.summary import summarize

ROOT = Path(__file__).resolve().parents[1]
USERS, RATE, SECONDS = 1000, 100, 60


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _report(name: str, results: Path, cpu_s: float) -> dict:
    s = summarize(results)
    line = {"generator": name, "rps": s["rps_mean"], "requests": s["requests"], "failures": s["failures"],
            **{k: s["latency_ms"][k] for k in ("p50", "p95", "p99")}, "cpu_s": round(cpu_s, 2),
            "cpu_us_per_request": round(1e6 * cpu_s / s["requests"])}
    print(json.dumps(line))
    return line


@pytest.mark.integration
def test_wrk_beside_locust(api_server, tmp_path):
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'wrk'}:{ROOT / 'locust'}", "LOCUST_SHAPE": "none"}
    wrk_dir = tmp_path / "wrk"
    before = _children_cpu()
    subprocess.run([sys.executable, "-m", "wrkload", "run", "--host", api_server.base_url, "--users", str(USERS),
                    "--spawn-rate", str(RATE), "--duration", str(SECONDS), "--csv", str(wrk_dir / "locust")],
                   env=env, check=True, timeout=SECONDS + 120, capture_output=True)
    wrk = _report("wrk", wrk_dir, json.loads((wrk_dir / "locust_generator.json").read_text())["wrk_cpu_s"])
    driver = _children_cpu() - before
    loc_dir = tmp_path / "locust"
    loc_dir.mkdir()
    before = _children_cpu()
    subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "locust" / "locustfile.py"), "--headless",
                    "-u", str(USERS), "-r", str(RATE), "-t", f"{SECONDS}s", "-H", api_server.base_url,
                    "--csv", str(loc_dir / "locust"), "--csv-full-history", "--only-summary"],
                   env=env, timeout=SECONDS + 120, capture_output=True, cwd=tmp_path)
    loc = _report("locust", loc_dir, _children_cpu() - before)
    print(json.dumps({"wrk_driver_and_wrk_cpu_s": round(driver, 2)}))
    assert wrk["requests"] > 0 and loc["requests"] > 0
