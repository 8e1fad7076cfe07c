"""The CPU bisection and memory sizing of `find`, on the outcomes recorded by the committed 2,000-user sweep."""

import json
from pathlib import Path

import pytest

from capacity.core.status import FAIL, INVALID, PASS
from capacity.search.bisect import Search, memory_limit, next_memory

SWEEP = Path(__file__).resolve().parents[2] / "results" / "20261123-121625"


def recorded(replicas: int, cpus: float) -> str:
    """The status the committed sweep measured for this cell (256M replicas): the same on every repeat."""
    return json.loads((SWEEP / f"cpu{cpus:g}-mem256M-x{replicas}-p1" / "cell.json").read_text())["status"]


def test_search_finds_the_grids_answer_in_fewer_cells():
    calls = []
    search = Search([0.1, 0.25, 0.5], [1, 2], lambda r, c: calls.append((r, c)) or recorded(r, c), repeats=3)
    result = search.run()
    assert (result.answer.replicas, result.answer.cpus) == (2, 0.1)  # the sweep's answer: 2 x (0.1 CPU, 256M)
    one = result.boundaries[0]
    assert (one.cpus, one.below) == (0.25, 0.1)
    assert one.outcomes == {0.1: [FAIL] * 3, 0.25: [PASS] * 3}  # both sides of the boundary, 3 times each
    assert (2, 0.25) not in calls and (2, 0.5) not in calls  # dearer than the 1-replica answer: never measured
    assert result.cells == len(calls) == 9
    assert len(set(calls)) < result.grid_cells == 6  # 3 distinct cells instead of the ladder x replicas grid


def test_a_flaky_boundary_moves_the_answer_up():
    seen: dict[float, int] = {}

    def measure(replicas, cpus):
        seen[cpus] = seen.get(cpus, 0) + 1
        if cpus == 0.2 and seen[cpus] == 2:
            return FAIL  # the second repeat of the bisection's answer fails
        return PASS if cpus >= 0.2 else FAIL

    result = Search([0.1, 0.2, 0.3, 0.4], [1], measure).run()
    assert result.answer.cpus == 0.3
    assert result.boundaries[0].outcomes[0.2] == [PASS, FAIL, PASS]  # now the rung below, measured 3 times
    assert result.boundaries[0].outcomes[0.3] == [PASS] * 3


def test_invalid_is_never_an_answer_nor_a_failure():
    def measure(replicas, cpus):
        return INVALID if cpus == 0.2 else (PASS if cpus > 0.2 else FAIL)

    result = Search([0.1, 0.2, 0.3], [1], measure).run()
    b = result.boundaries[0]
    assert b.cpus == 0.3 and b.outcomes[0.2] == [INVALID] * 2  # twice in the bisection: not measured again below
    assert FAIL not in b.outcomes[0.2]


def test_no_rung_holds():
    result = Search([0.1, 0.2], [1], lambda r, c: FAIL).run()
    assert result.answer is None and result.boundaries[0].cpus is None


def test_memory_limit_from_peaks_with_margin():
    assert memory_limit([98.0, 150.0], margin=0.25) == "192M"  # 187.5 MiB -> next 32 MiB
    assert memory_limit([20.0]) == "64M"  # the floor
    assert next_memory("192M") == "256M"
    with pytest.raises(ValueError):
        memory_limit([None, 0])
    with pytest.raises(ValueError):
        Search([], [1], lambda r, c: PASS)


def test_rungs_the_knees_ruled_out_are_never_measured():
    calls = []

    def measure(replicas, cpus):
        calls.append((replicas, cpus))
        return PASS if cpus * replicas >= 0.15 else FAIL

    result = Search([0.05, 0.1, 0.15, 0.2, 0.25], [1, 2], measure, ruled_out={1: 0.1, 2: 0.1}).run()
    one, two = result.boundaries
    assert (one.cpus, one.below, one.ruled_out) == (0.15, 0.1, 0.1)  # the rung under it: ruled out, not measured
    assert one.outcomes == {0.15: [PASS] * 3, 0.2: [PASS]}
    assert (two.cpus, two.ruled_out, two.outcomes) == (None, 0.1, {})  # 2 x 0.05 is cheaper, but ruled out
    assert all(c > 0.1 for _, c in calls) and result.cells == len(calls) == 4


def test_an_invalid_repeat_is_measured_again_not_counted_as_a_failure():
    outcomes = {0.25: [PASS, PASS, INVALID, PASS], 0.35: [PASS] * 3}
    calls = []

    def measure(replicas, cpus):
        calls.append(cpus)
        return outcomes.get(cpus, [FAIL] * 9)[calls.count(cpus) - 1]

    result = Search([0.2, 0.25, 0.35], [1], measure).run()
    assert (result.answer.cpus, result.boundaries[0].outcomes[0.25]) == (0.25, [PASS, PASS, INVALID, PASS])
    outcomes[0.25] = [PASS, INVALID, INVALID]  # two in a row: this machine cannot confirm it, the answer moves up
    calls.clear()
    assert Search([0.2, 0.25, 0.35], [1], measure).run().answer.cpus == 0.35
