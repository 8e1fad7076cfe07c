"""find's memory rule: a cell killed over its memory limit, or one whose API never started, is measured again one
memory rung up (the model-load child needs more than the serving peak); any other outcome is kept as is."""

from pathlib import Path

from tqdm import tqdm

from capacity.core.grid import load_grid
from capacity.core.records import CellEvents
from capacity.core.settings import Settings
from capacity.search.find import Finder

GRID = Path(__file__).resolve().parents[1] / "grids" / "find.toml"


class Recorded:
    """A backend that replays what the docker backend reported (no Locust ran: nothing for the step judge)."""

    name = "recorded"

    def __init__(self, *events: CellEvents):
        self.events, self.memories = list(events), []

    def run_cell(self, cell, grid, cell_dir):
        self.memories.append(cell.memory)
        return self.events.pop(0)


def finder(backend, tmp_path: Path) -> Finder:
    return Finder(load_grid(GRID), backend, tmp_path, Settings(), "160M", tqdm(disable=True))


def test_a_cell_whose_api_never_started_is_measured_again_with_more_memory(tmp_path):
    unhealthy = CellEvents(error="api/lb did not become healthy: container main-api-1 is unhealthy",
                           api_started=False)
    backend = Recorded(unhealthy, CellEvents(oom_killed=1), CellEvents(error="Locust exited with code 2"))
    finder(backend, tmp_path).measure(1, 0.25)
    assert backend.memories == ["160M", "224M", "288M"]  # +25% (at least +32 MiB), rounded to 32 MiB


def test_an_api_that_started_keeps_its_memory(tmp_path):
    backend = Recorded(CellEvents(error="Locust exited with code 2"))
    finder(backend, tmp_path).measure(1, 0.25)
    assert backend.memories == ["160M"]
