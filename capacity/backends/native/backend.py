"""Run a cell without Docker: N local API processes pinned to whole cores, the generator as a subprocess.

- CPU: `taskset` pins each replica to ceil(cpus) cores (a process cannot be given a fraction of a core
  without cgroups), so 0.25, 0.5 and 1.0 CPU are the same deployment here; the report says so.
- Memory: the replica's RSS (its whole process tree) is watched; over the limit it is killed and the cell
  records an OOM kill. RSS leaves out the page cache a container's limit counts, so it is a lower bound.
- Replicas: each listens on its own loopback port; Locust's users are spread round-robin over them by
  capacity/native_locustfile.py (no nginx in the path); wrk loads one replica (capacity.generators.local).
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from pathlib import Path

from capacity.backends.native.startup import native_startup
from capacity.backends.native.watch import Watched, Watcher
from capacity.backends.startup import Startup
from capacity.core.cells import Cell, CellError, GeneratorError
from capacity.core.grid import DEFAULT_CPU_PERIOD_MS, Grid, Lb
from capacity.core.provenance import ROOT
from capacity.core.records import CellEvents
from capacity.core.samples import RESOURCES_CSV, sample_writer
from capacity.core.settings import Settings
from capacity.generators import local_generator
from labtools import Managed, free_port, spawn, wait_http


def core_sets(cpus: float, replicas: int, cores: list[int]) -> list[list[int]]:
    """ceil(cpus) cores per replica, handed out in turn over the cores this process may use."""
    need = min(math.ceil(cpus), len(cores))
    return [[cores[(r * need + j) % len(cores)] for j in range(need)] for r in range(replicas)]


class NativeBackend:
    name = "native"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.cores = sorted(os.sched_getaffinity(0))
        self.generator = local_generator("locust")

    def prepare(self, grid: Grid, out: Path) -> list[str]:
        """Check the tools; return the notes the report must carry."""
        if grid.grid.cpu_period_ms != [DEFAULT_CPU_PERIOD_MS]:
            raise CellError("native backend: cpu_period_ms needs the docker backend (it writes the replicas' cgroups)")
        if shutil.which("taskset") is None:
            raise CellError("native backend: `taskset` (util-linux) not found")
        rounded = sorted({c for c in grid.grid.cpus if c != math.ceil(c)})
        self.generator = local_generator(grid.load.generator)
        notes = [f"Native backend: replicas are local processes pinned with taskset to whole cores of "
                 f"{len(self.cores)}; API memory is RSS (page cache not counted); no nginx, so lb columns are "
                 f"empty. The generator ({grid.load.generator}) shares the same cores.",
                 *self.generator.prepare(grid)]
        if rounded:
            notes.append("Native backend: cpus " + ", ".join(f"{c:g}" for c in rounded)
                         + " rounded UP to whole cores (taskset cannot give a fraction of a core): cells that "
                         "differ only there are the same deployment here.")
        return notes

    def run_cell(self, cell: Cell, grid: Grid, cell_dir: Path) -> CellEvents:
        """Start the replicas, load them, stop everything we started; return events (OOM kills, crashes)."""
        writer = sample_writer(cell_dir / RESOURCES_CSV)
        watcher = Watcher(writer, self.settings.sample_interval_s)
        procs: list[Managed] = []
        error = generator_error = None
        try:
            urls = self._start_replicas(cell, cell_dir, watcher, procs)
            watcher.start()
            self._wait_ready(procs)
            if grid.load.warmup:
                time.sleep(grid.load.warmup)
            self.generator.on_start = lambda managed: watcher.add(Watched("generator", self.generator.name,
                                                                           managed.proc))
            self.generator.run(grid, cell_dir, {"CAPACITY_TARGETS": ",".join(urls)})
        except GeneratorError as exc:
            generator_error = str(exc)
        except CellError as exc:
            error = str(exc)
        finally:
            watcher.stop()
            for managed in reversed(procs):
                managed.stop()
            writer.close()
        problems = [p for p in (error, *watcher.crashes) if p]
        return CellEvents(oom_killed=len(watcher.kills), error="; ".join(problems) or None, notes=watcher.kills,
                          generator_error=generator_error)

    def _start_replicas(self, cell: Cell, cell_dir: Path, watcher: Watcher, procs: list) -> list[str]:
        urls = []
        for i, cores in enumerate(core_sets(cell.cpus, cell.replicas, self.cores), start=1):
            port = free_port()
            env = {"API_HOST": "127.0.0.1", "API_PORT": str(port), "WEB_CONCURRENCY": str(cell.processes),
                   "MLFLOW_TRACKING_URI": self.settings.mlflow_tracking_uri, "MODEL_NAME": self.settings.model_name,
                   "MODEL_ALIAS": self.settings.model_alias, "PYTHONPATH": str(ROOT / "fastapi")}
            cmd = ["taskset", "-c", ",".join(map(str, cores)), sys.executable, "-m", "inference"]
            managed = spawn(cmd, cell_dir / f"api-{i}.log", env, ROOT / "fastapi", port)
            procs.append(managed)
            watcher.add(Watched("api", f"api-{i}", managed.proc, cell.memory_bytes))
            urls.append(managed.base_url)
        return urls

    def _wait_ready(self, replicas: list[Managed]) -> None:
        deadline = time.monotonic() + self.settings.ready_timeout_s
        for replica in replicas:
            try:
                wait_http(f"{replica.base_url}/ready", max(0.0, deadline - time.monotonic()), replica.proc,
                          interval=0.5)
            except RuntimeError:
                raise CellError(f"a replica exited before it was ready (code {replica.proc.returncode}); "
                                "see api-*.log") from None
            except TimeoutError:
                raise CellError(f"not ready after {self.settings.ready_timeout_s:g} s: {replica.base_url}") from None

    def stop_load(self) -> None:
        """End the running load now (the generator still writes its files), e.g. once a ramp step has failed."""
        self.generator.stop()

    def startup(self, cell: Cell, lb: Lb, log: Path) -> Startup:
        return native_startup(cell, self.settings, log)

    def shared_stack(self) -> None:
        """Its own processes: nothing shared with other users of the machine's engine."""
        return None

    def close(self) -> None:
        """Nothing keeps running between cells."""
