"""Start-up of one configuration: seconds from start to /ready, and the peak memory while the model loads.

This tells how fast an answer scales out (a new replica serves only after this long) and what memory the
loading needs on top of the serving peak (the model download and deserialisation can peak above it).
Each backend measures its own (`Backend.startup`: backends/native/startup.py, backends/docker/startup.py);
`measure_startup` keeps the result in `startup/<slug>/startup.json`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from capacity.core.cells import Cell
from capacity.core.grid import Lb

if TYPE_CHECKING:
    from capacity.backends.base import Backend

STARTUP_JSON = "startup.json"
MIB = 1024**2


@dataclass(frozen=True)
class Startup:
    ready_s: float | None  # None: never ready within the timeout
    peak_mem_mb: float | None
    samples: int
    error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def measure_startup(backend: Backend, cell: Cell, lb: Lb, out_dir: Path) -> Startup:
    """Measure once (backend.startup) and keep it in `out_dir/startup.json`; a resumed run reads it back."""
    path = out_dir / STARTUP_JSON
    if path.exists():
        return Startup(**json.loads(path.read_text()))
    out_dir.mkdir(parents=True, exist_ok=True)
    result = backend.startup(cell, lb, out_dir / "startup-api.log")
    path.write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    return result
