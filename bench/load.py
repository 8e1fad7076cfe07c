"""Load generators: wrk with bench/post.lua (the measurement) and a short headless Locust run (the cross-check)."""

from __future__ import annotations

import csv
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.procs import Cores
from bench.variants import VENV_BIN

HERE = Path(__file__).resolve().parent
LUA = HERE / "post.lua"


@dataclass(frozen=True)
class LoadResult:
    tool: str
    connections: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    status_errors: int  # answers >= 400 (wrk) / failures (Locust)
    socket_errors: int  # connect, read, write errors and timeouts


def wrk(url: str, body: Path, connections: int, duration: float, core: int | None) -> LoadResult:
    cmd = Cores.pin(core, ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "5s",
                           "-s", str(LUA), url, "--", str(body)])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {out.returncode}):\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    lat, err = data["latency_us"], data["errors"]
    pct = {float(k): v / 1000 for k, v in lat["percentiles"].items()}
    return LoadResult("wrk", connections, data["requests"] / (data["duration_us"] / 1e6), pct[50.0], pct[90.0],
                      pct[99.0], lat["max"] / 1000, data["requests"], err["status"],
                      err["connect"] + err["read"] + err["write"] + err["timeout"])


def locust(base_url: str, path: str, body: Path, users: int, duration: float, core: int | None) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="bench-locust-") as tmp:
        prefix = Path(tmp) / "run"
        cmd = Cores.pin(core, [
            str(VENV_BIN / "locust"), "-f", str(HERE / "locust_check.py"), "--headless", "-u", str(users),
            "-r", str(users), "-t", f"{max(1, round(duration))}s", "-H", base_url, "--csv", str(prefix),
            "--only-summary", "--loglevel", "WARNING", "--body-file", str(body), "--predict-path", path,
        ])
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, cwd=tmp)
        stats = Path(f"{prefix}_stats.csv")
        if not stats.exists():
            raise RuntimeError(f"locust wrote no stats (exit {out.returncode}):\n{out.stderr[-2000:]}")
        with open(stats, newline="") as f:
            row = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    return LoadResult("locust", users, float(row["Requests/s"]), float(row["50%"]), float(row["90%"]),
                      float(row["99%"]), float(row["Max Response Time"]), int(row["Request Count"]),
                      int(row["Failure Count"]), 0)
