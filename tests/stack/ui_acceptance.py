"""Issue 12's acceptance runs, from the Locust web UI in headless Chromium, recorded in results/ui-acceptance/.

    python tests/stack/ui_acceptance.py SCENARIO [--users N] [--spawn-rate R] [--seconds S] [--screenshot PNG]

Expects the core stack and the Locust UI (docker-compose-locust.yaml) to be up (hold /tmp/lab-docker.lock).
Starts a run from the form, opens the Capacity tab, every 5 s records the JSON behind it (/stats/requests:
`capacity`, users, RPS, failures), stops the run after at most --seconds (<= 90), saves a screenshot of the tab
and writes results/ui-acceptance/<SCENARIO>.json with the timeline and the commit it ran at.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import time
from pathlib import Path

from browser import chromium
from compose import ROOT, http
from test_locust_ui import start_from_the_form


def record(url: str, started: float) -> dict:
    status, data = http(f"{url}/stats/requests", timeout=30)
    if status != 200 or not isinstance(data, dict):  # an overloaded master answers late: say so, keep going
        return {"t_s": round(time.monotonic() - started, 1), "error": f"{status}: {str(data)[:200]}",
                "users": None, "state": None, "rps": None, "fail_ratio": 0.0, "capacity": {}}
    return {"t_s": round(time.monotonic() - started, 1), "users": data["user_count"], "state": data["state"],
            "rps": round(data.get("total_rps", 0.0), 1), "fail_ratio": round(data.get("fail_ratio", 0.0), 4),
            "capacity": data.get("capacity", {})}


def wait_stopped(url: str, started: float, timeout: float = 180) -> float | None:
    """Seconds since the start until every worker stopped its users (None: not within `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, data = http(f"{url}/stats/requests", timeout=30)
        if status == 200 and isinstance(data, dict) and data["state"] in ("stopped", "ready"):
            return round(time.monotonic() - started, 1)
        time.sleep(3)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--spawn-rate", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--url", default="http://127.0.0.1:8089")
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args(argv)
    seconds = min(args.seconds, 90.0)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    timeline = []
    with chromium(1600, 1100) as driver:
        driver.get(args.url)
        started = time.monotonic()
        try:
            start_from_the_form(driver, args.users, args.spawn_rate)
            while time.monotonic() - started < seconds:
                time.sleep(5)
                timeline.append(point := record(args.url, started))
                verdict = point["capacity"].get("verdict", {})
                print(f"{point['t_s']:5.1f}s users={point['users']} rps={point['rps']} "
                      f"fail={point['fail_ratio']:.2%} {verdict.get('verdict')}: {verdict.get('reason')} "
                      f"{point.get('error') or ''}", flush=True)
            if args.screenshot:
                args.screenshot.parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(args.screenshot))
        finally:
            http(f"{args.url}/stop", body={})  # POST
    stopped = wait_stopped(args.url, started)
    out = ROOT / "results" / "ui-acceptance" / f"{args.scenario}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    record_ = {"scenario": args.scenario, "commit": commit, "users": args.users, "spawn_rate": args.spawn_rate,
               "stopped_at_s": stopped, "timeline": timeline}
    out.write_text(json.dumps(record_, indent=1) + "\n")
    print(f"stopped at {stopped} s; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
