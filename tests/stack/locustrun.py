"""A headless Locust run from docker-compose-locust.yaml, in the background, its results read from the host."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from compose import ROOT, Compose

from labtools import compose_locust_env

LOCUST_FILE = "docker-compose-locust.yaml"
EXPECTED_FILES = ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "report.html",
                  "summary.json")


class LocustRun:
    def __init__(self, compose: Compose, run_id: str, users: int, spawn_rate: int, run_time: str,
                 workers: int = 2):
        self.compose, self.run_id = compose, run_id
        self.results_dir = ROOT / "results" / run_id
        self.env = {**compose.env, **compose_locust_env(run_id, workers, users=users, spawn_rate=spawn_rate,
                                                        run_time=run_time)}
        self.proc: subprocess.Popen | None = None
        self.log = Path(f"/tmp/locust-{run_id}.log")

    def start(self) -> LocustRun:
        shutil.rmtree(self.results_dir, ignore_errors=True)
        self.results_dir.mkdir(parents=True)
        cmd = ["docker", "compose", "-f", LOCUST_FILE, "up", "--build", "--abort-on-container-exit",
               "--exit-code-from", "master"]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **self.env}, stdout=log,
                                         stderr=subprocess.STDOUT)
        return self

    def wait(self, timeout: float = 600) -> dict:
        assert self.proc is not None
        try:
            self.proc.wait(timeout)
        finally:
            subprocess.run(["docker", "compose", "-f", LOCUST_FILE, "down", "--remove-orphans"], cwd=ROOT,
                           env={**os.environ, **self.env}, capture_output=True, timeout=180)
        summary_path = self.results_dir / "summary.json"
        assert summary_path.exists(), self.log.read_text(errors="replace")[-4000:]
        return json.loads(summary_path.read_text())

    def files_exist(self) -> bool:
        return all((self.results_dir / name).exists() for name in EXPECTED_FILES)
