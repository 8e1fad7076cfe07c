"""Exact percentiles from wrk's latency histogram (microseconds -> count), merged across segments by adding."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# Locust's percentile columns (stats.csv and stats_history.csv)
PERCENTILES = (0.5, 0.66, 0.75, 0.8, 0.9, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0)


def merge(histograms: Iterable[Counter]) -> Counter:
    total: Counter = Counter()
    for h in histograms:
        total.update(h)
    return total


def percentiles_ms(hist: Counter, points: tuple[float, ...] = PERCENTILES) -> list[float | None]:
    """The smallest latency with at least p of the answers at or below it (wrk's own rank rule), in ms."""
    count = sum(hist.values())
    if not count:
        return [None] * len(points)
    ranks = [max(1, round(p * count + 0.5)) for p in points]
    out: list[float | None] = [None] * len(points)
    seen = 0
    for us in sorted(hist):
        seen += hist[us]
        for i, rank in enumerate(ranks):
            if out[i] is None and seen >= rank:
                out[i] = us / 1000
    return [v if v is not None else max(hist) / 1000 for v in out]


def mean_ms(hist: Counter) -> float | None:
    count = sum(hist.values())
    return sum(us * n for us, n in hist.items()) / count / 1000 if count else None
