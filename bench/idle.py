"""An idle api replica's CPU, read from its cgroup (no `docker exec` inside the window), and one health check's.

    python -m bench.idle [--window 60] [--checks 5]    # with the stack up; writes results/idle/<date>.json

Idle: the container's cgroup CPU usage over `--window` seconds, its own health checks included (cgroup v2
cpu.stat usage_usec, v1 cpuacct.usage). Per check: the cgroup usage around each of `--checks` runs of a probe
through `docker exec` (the exec machinery Docker's health checks use), less the idle rate over that time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from labtools import container_cpu

ROOT = Path(__file__).resolve().parents[1]
PROBES = {
    "bash /app/healthcheck.sh --now": ["bash", "/app/healthcheck.sh", "--now"],
    "python -c urllib (the old check)": ["python", "-c", "import urllib.request as u; "
                                         "u.urlopen('http://127.0.0.1:8000/ready', timeout=4)"],
    "true (any exec)": ["true"],
}


def container_ids(service: str = "api") -> list[str]:
    out = subprocess.run(["docker", "compose", "ps", "-q", "--no-trunc", service], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=30).stdout
    return out.split()


def usage_us(container: str) -> float:
    """Cumulative CPU of the container's cgroup in microseconds (cgroup v2 or v1, cgroupfs or systemd driver)."""
    stat = container_cpu(container)
    if stat is None or "usage_usec" not in stat:
        raise FileNotFoundError(f"no cgroup CPU counter for container {container}")
    return float(stat["usage_usec"])


def idle_core(container: str, window: float) -> float:
    start, t0 = usage_us(container), time.monotonic()
    time.sleep(window)
    return (usage_us(container) - start) / 1e6 / (time.monotonic() - t0)


def per_check_ms(container: str, probe: list[str], runs: int, rate: float) -> float:
    costs = []
    for _ in range(runs):
        before, t0 = usage_us(container), time.monotonic()
        subprocess.run(["docker", "exec", container, *probe], capture_output=True, timeout=30)
        time.sleep(0.5)  # the exec's last CPU lands in the cgroup
        costs.append((usage_us(container) - before) / 1000 - rate * (time.monotonic() - t0) * 1000)
    return round(sorted(costs)[len(costs) // 2], 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--checks", type=int, default=5)
    args = parser.parse_args()
    (container,) = container_ids()[:1]
    rate = idle_core(container, args.window)
    checks = {name: per_check_ms(container, probe, args.checks, rate) for name, probe in PROBES.items()}
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "container": container[:12],
              "command": "python -m bench.idle " + f"--window {args.window:g} --checks {args.checks}",
              "idle_core": round(rate, 5), "idle_window_s": args.window, "per_check_cpu_ms_median": checks}
    out = ROOT / "results" / "idle" / f"{datetime.now(UTC):%Y%m%d-%H%M}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
