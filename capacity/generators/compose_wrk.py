"""wrk (wrk/, `python -m wrkload`) from docker-compose-wrk.yaml, one container on the stack's network.

One container is enough: its wrk threads (WRK_THREADS, 2) made 4,480 req/s at 10,000 users on 0.64 core here.
It reads the users' behaviour from the same LOCUST_* variables as Locust (loadtest.settings), so a cell's load
is spelled once (cells.locust_env) for both generators.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

from capacity.core.cells import CellError, GeneratorError, locust_env
from capacity.core.docker import WRK_PROJECT, compose
from capacity.core.grid import Grid
from capacity.core.settings import Settings
from capacity.generators.compose_locust import tail


def wrk_env(grid: Grid, run_id: str) -> dict[str, str]:
    """The wrk compose file's knobs for this grid's load: users, spawn rate and duration of a fixed load (the
    ramp comes from LOCUST_SHAPE and LOCUST_STEP_*), the users' think time and mix, the run folder."""
    load = grid.load
    return {**locust_env(load), "RUN_ID": run_id, "WRK_USERS": str(load.users),
            "WRK_SPAWN_RATE": f"{load.spawn_rate:g}", "WRK_DURATION_S": str(math.ceil(load.duration))}


class ComposeWrk:
    name = "wrk"
    project = WRK_PROJECT

    def __init__(self, settings: Settings, root: Path, results: Path):
        self.settings, self.root, self.results = settings, root, results
        self.hosts: dict[str, int] = {}
        self._stopped = False

    def _compose(self, *args: str, env: dict | None = None, timeout: float = 120):
        return compose(self.settings.wrk_compose_file, *args, env=env, timeout=timeout, cwd=self.root)

    def prepare(self, grid: Grid) -> list[str]:
        if grid.generators.endpoints:
            raise CellError("the wrk generator runs on this machine only: drop [generators] endpoints "
                            "(--worker-endpoint), which are Locust workers")
        if not (self.root / self.settings.wrk_compose_file).exists():
            raise CellError(f"{self.settings.wrk_compose_file} not found; run from the project root")
        built = self._compose("build", timeout=900)
        if built.returncode != 0:
            raise CellError(f"building the wrk image failed:\n{tail(built.stderr)}")
        return ["wrk (wrk/) generates the load: one container on this machine, one keep-alive connection per user, "
                "Locust's request mix and think time; its CPU judged per wrk thread from its own samples (docker "
                "stats: the container's total)."]

    def run(self, grid: Grid, cell_dir: Path, env: dict[str, str]) -> None:
        self.hosts, self._stopped = {}, False
        run_id = cell_dir.resolve().relative_to(self.results).as_posix()
        budget = grid.load.run_seconds + 180  # 10,000 connects per step boundary, the histogram dumps, summary
        try:
            result = self._compose("up", "--no-build", "--abort-on-container-exit", "--exit-code-from", "wrk",
                                   env={**env, **wrk_env(grid, run_id)}, timeout=budget)
        except subprocess.TimeoutExpired:
            raise GeneratorError(f"wrk did not finish within {budget:g} s; stopped") from None
        finally:
            self._compose("down", "--timeout", "30", timeout=120)
        (cell_dir / "wrk-compose.log").write_text(result.stdout + result.stderr)
        self.hosts = {"local": 1}
        if result.returncode != 0 and not self._stopped:  # 1: no answer at all
            raise GeneratorError(f"wrk exited with code {result.returncode}; see wrk-compose.log")

    def stop(self) -> None:
        """SIGTERM: the running wrk gets SIGINT, prints its histogram; the files are written."""
        self._stopped = True
        self._compose("stop", "--timeout", "60", "wrk", timeout=120)

    def after_cell(self) -> list[str]:
        return []

    def close(self) -> None:
        self._compose("down", "--timeout", "30", timeout=120)
