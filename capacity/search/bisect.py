"""`find --users N` as a search: per replica count, bisect the CPU per replica over a ladder.

Pure logic: `measure(replicas, cpus)` is a callback returning PASS, FAIL or INVALID for one measured cell, so
the search runs the same on a real backend and on recorded outcomes (tests). Rules:
- replica counts are searched in ascending order; once an answer is known, a larger count only tries CPU
  values whose total (cpus x replicas) is strictly cheaper;
- bisection assumes more CPU never hurts; an INVALID cell is measured once more, and if still INVALID it
  is neither a pass nor a fail: the search moves up (it never answers with an unmeasured cell) and the report
  lists it with its reason;
- the boundary is measured `repeats` times on both sides: the answer is the cheapest configuration whose
  repeats all pass; a repeat that fails moves the answer one rung up; an INVALID repeat is no repeat: it is
  measured again, and two INVALID in a row count as not held;
- `ruled_out` (replicas -> CPU per replica): rungs at or under it are known not to hold, e.g. from a redline
  run whose ramps all failed at N users or fewer (capacity.search.knees.ruled_out). They are never measured, and the
  rung under the answer is not measured again when the knees already ruled it out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from capacity.core.status import FAIL, INVALID, PASS

Measure = Callable[[int, float], str]


@dataclass
class Boundary:
    replicas: int
    cpus: float | None  # the smallest CPU per replica whose repeats all passed (None: no rung held)
    below: float | None  # the rung under it (measured, or ruled out, to show it does not hold)
    outcomes: dict[float, list[str]] = field(default_factory=dict)
    ruled_out: float | None = None  # rungs up to this CPU were known not to hold: never measured

    @property
    def total_cpus(self) -> float | None:
        return None if self.cpus is None else round(self.cpus * self.replicas, 6)


@dataclass
class SearchResult:
    boundaries: list[Boundary]
    cells: int  # measurements taken (repeats included)
    grid_cells: int  # what a grid over the same ladder and replica counts would run, once each

    @property
    def answer(self) -> Boundary | None:
        held = [b for b in self.boundaries if b.cpus is not None]
        return min(held, key=lambda b: (b.total_cpus, b.replicas), default=None)


class Search:
    def __init__(self, ladder: list[float], replicas: list[int], measure: Measure, repeats: int = 3,
                 ruled_out: dict[int, float] | None = None):
        if not ladder or not replicas or repeats < 1:
            raise ValueError("search: the CPU ladder and the replica counts must not be empty, repeats >= 1")
        self.ladder, self.replicas = sorted(set(ladder)), sorted(set(replicas))
        self.measure, self.repeats, self.ruled_out = measure, repeats, ruled_out or {}
        self.cells = 0
        self._seen: dict[tuple[int, float], list[str]] = {}

    def _measure(self, replicas: int, cpus: float) -> str:
        self.cells += 1
        status = self.measure(replicas, cpus)
        self._seen.setdefault((replicas, cpus), []).append(status)
        return status

    def _holds(self, replicas: int, cpus: float) -> bool:
        """One verdict for the bisection: INVALID gets a second measurement, then counts as not held."""
        status = self._measure(replicas, cpus)
        if status == INVALID:
            status = self._measure(replicas, cpus)
        return status == PASS

    def _bisect(self, replicas: int, rungs: list[float]) -> int | None:
        lo, hi, best = 0, len(rungs) - 1, None
        while lo <= hi:
            mid = (lo + hi) // 2
            if self._holds(replicas, rungs[mid]):
                best, hi = mid, mid - 1
            else:
                lo = mid + 1
        return best

    def _repeat(self, replicas: int, cpus: float, stop_on_fail: bool) -> bool:
        """Measure until `repeats` valid outcomes exist; True if every one of them is PASS. An INVALID outcome is
        no repeat (neither a pass nor a failure): it is measured again, and two in a row end the repeats (this
        machine cannot measure that cell)."""
        outcomes = self._seen.setdefault((replicas, cpus), [])
        while sum(o != INVALID for o in outcomes) < self.repeats and outcomes[-2:] != [INVALID, INVALID]:
            if self._measure(replicas, cpus) == FAIL and stop_on_fail:
                return False
        valid = [o for o in outcomes if o != INVALID]
        return len(valid) >= self.repeats and all(o == PASS for o in valid)

    def _confirm(self, replicas: int, rungs: list[float], index: int | None, known: float | None) -> Boundary:
        while index is not None and index < len(rungs):
            if self._repeat(replicas, rungs[index], stop_on_fail=True):
                break
            index += 1
        if index is None or index >= len(rungs):
            return Boundary(replicas, None, None, self._outcomes(replicas), known)
        below = rungs[index - 1] if index > 0 else None
        if below is not None:
            self._repeat(replicas, below, stop_on_fail=False)
        return Boundary(replicas, rungs[index], below if below is not None else known, self._outcomes(replicas),
                        known)

    def _known_below(self, replicas: int) -> float | None:
        """The highest ladder rung the knees ruled out for this replica count."""
        bound = self.ruled_out.get(replicas)
        return max((c for c in self.ladder if bound is not None and c <= bound + 1e-9), default=None)

    def _outcomes(self, replicas: int) -> dict[float, list[str]]:
        return {c: list(o) for (r, c), o in sorted(self._seen.items()) if r == replicas}

    def run(self) -> SearchResult:
        boundaries: list[Boundary] = []
        for replicas in self.replicas:
            best = SearchResult(boundaries, self.cells, 0).answer
            known = self._known_below(replicas)
            rungs = [c for c in self.ladder if (best is None or c * replicas < best.total_cpus - 1e-9)
                     and (known is None or c > known)]
            if not rungs:
                boundaries.append(Boundary(replicas, None, None, {}, known))
                continue
            boundaries.append(self._confirm(replicas, rungs, self._bisect(replicas, rungs), known))
        return SearchResult(boundaries, self.cells, len(self.ladder) * len(self.replicas))


def memory_limit(peaks_mb: list[float], margin: float = 0.25, step_mb: int = 32, floor_mb: int = 64) -> str:
    """The smallest limit that should never OOM: the highest peak RSS (at load or while loading the model)
    plus `margin`, rounded up to `step_mb`; Docker's notation ('160M')."""
    present = [p for p in peaks_mb if p]
    if not present:
        raise ValueError("memory_limit: no peak RSS measured")
    need = max(present) * (1 + margin)
    return f"{max(floor_mb, math.ceil(need / step_mb) * step_mb)}M"


def next_memory(memory: str, step_mb: int = 32) -> str:
    """One rung up, after an OOM kill: +25%, at least +step_mb."""
    mb = int(memory.rstrip("Mm"))
    return f"{math.ceil(max(mb * 1.25, mb + step_mb) / step_mb) * step_mb}M"
