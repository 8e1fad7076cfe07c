"""Locust's three CSV files from the segments' results, with Locust's column names (README, "What each column is").

- `_stats_history.csv`: one Aggregated row per second of the run. Requests/s and Failures/s are the mean of
  the per-second counts (Lua, by the second each answer arrived) over the whole seconds of the row's segment
  among the 10 ending at that second, like Locust's ~10 s window (a second cut by a segment boundary is left
  out); User Count follows the segment's arrival schedule; the percentile columns are the
  EXACT percentiles of the segment (ramp step or fixed cell) the second belongs to, from wrk's histogram, so
  the median of a step's rows is that step's percentile; the Total* columns are cumulative, a segment's
  answers counted at that segment's mean latency.
- `_stats.csv`: one row per request name (counts only: wrk keeps one histogram per process, not per name) and
  the Aggregated row with exact percentiles over the whole run (segments' histograms added).
- `_failures.csv`: failures by name and reason; socket errors and timeouts under the name "(socket)".
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

from wrkload.histogram import PERCENTILES, mean_ms, merge, percentiles_ms
from wrkload.requests import NAMES
from wrkload.segment import SegmentResult

PCT_COLUMNS = [f"{p * 100:g}%" for p in PERCENTILES]
HISTORY_COLUMNS = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s", *PCT_COLUMNS,
                   "Total Request Count", "Total Failure Count", "Total Median Response Time",
                   "Total Average Response Time", "Total Min Response Time", "Total Max Response Time",
                   "Total Average Content Size"]
STATS_COLUMNS = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time",
                 "Average Response Time", "Min Response Time", "Max Response Time", "Average Content Size",
                 "Requests/s", "Failures/s", *PCT_COLUMNS]
FAILURE_COLUMNS = ["Method", "Name", "Error", "Occurrences"]
SOCKET = "(socket)"
RPS_WINDOW_S = 10


def _fmt(v: float | None) -> str:
    return "N/A" if v is None else f"{v:.2f}"


def socket_failures(r: SegmentResult) -> Counter:
    """wrk's own error counters: no answer (connect/read/write) or one after the timeout."""
    return Counter({("", f"{k} error" if k != "timeout" else "no answer within the timeout"): n
                    for k, n in r.errors.items() if k != "status" and n})


def _segment_of(results: list[SegmentResult], t: int) -> SegmentResult:
    later = [r for r in results if r.ended >= t]
    return later[0] if later else results[-1]


def _rate_window(seg: SegmentResult, t: int) -> list[int]:
    """The seconds a row's Requests/s and Failures/s average: the whole seconds of `seg` among the RPS_WINDOW_S
    ending at t. A second cut by a segment boundary holds a fraction of a second's answers (plus the next
    segment's): counted, a step's last row read ~9% low (2,586 for ~2,850 req/s) and capacity's early stop ended
    two ramps a step early on verdicts the full files reversed (2026-12-07). When the window holds no whole second
    of the segment (its first second), the plain RPS_WINDOW_S seconds."""
    loaded_until = seg.started + seg.duration_us / 1e6 if seg.duration_us else seg.ended
    lo, hi = math.ceil(seg.started), math.floor(loaded_until)  # whole seconds [lo, hi)
    window = range(t - RPS_WINDOW_S + 1, t + 1)
    return [s for s in window if lo <= s < hi] or list(window)


def write_history(path: Path, results: list[SegmentResult]) -> None:
    """Rows for the seconds of the measured segments; a crashed segment's seconds have none (its data is lost,
    and rows of 0 answers would read as the API's)."""
    gaps = [(int(r.started), int(r.ended)) for r in results if r.crashed]
    results = [r for r in results if not r.crashed]
    if not results:
        return
    counts: dict[int, list[int]] = {}
    for r in results:
        for sec, (n, f) in r.per_second.items():
            b = counts.setdefault(sec, [0, 0])
            b[0], b[1] = b[0] + n, b[1] + f
        end = int(r.ended)
        counts.setdefault(end, [0, 0])[1] += sum(socket_failures(r).values())
    first, last = int(results[0].started), max(int(results[-1].ended), max(counts, default=0))
    pcts = {id(r): percentiles_ms(r.latency_us) for r in results}
    means = {id(r): mean_ms(r.latency_us) or 0.0 for r in results}
    total = failures = 0
    spent = 0.0
    low = high = None
    rows = []
    for t in range(first, last + 1):
        if any(a <= t <= b for a, b in gaps):
            continue
        seg = _segment_of(results, t)
        n, f = counts.get(t, [0, 0])
        total, failures, spent = total + n, failures + f, spent + n * means[id(seg)]
        window = [counts.get(s, [0, 0]) for s in _rate_window(seg, t)]
        rates = [sum(w[c] for w in window) / len(window) for c in (0, 1)]
        if seg.latency_us:
            low = min(low if low is not None else 1e18, min(seg.latency_us) / 1000)
            high = max(high or 0.0, max(seg.latency_us) / 1000)
        p = pcts[id(seg)]
        rows.append([t, seg.segment.users_at(t - seg.started), "", "Aggregated",
                     f"{rates[0]:.2f}", f"{rates[1]:.2f}",
                     *map(_fmt, p), total, failures, _fmt(p[0]), f"{spent / total if total else 0.0:.3f}",
                     _fmt(low), _fmt(high), f"{seg.bytes / seg.requests if seg.requests else 0:.1f}"])
    partial = path.with_name(path.name + ".part")  # replaced whole: a reader never sees half a file
    with open(partial, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HISTORY_COLUMNS)
        w.writerows(rows)
    partial.replace(path)


def write_stats(path: Path, results: list[SegmentResult]) -> None:
    seconds = max(1e-9, results[-1].ended - results[0].started)
    kinds: dict[str, list[int]] = {}
    for r in results:
        for kind, (n, f) in r.kinds.items():
            k = kinds.setdefault(kind, [0, 0])
            k[0], k[1] = k[0] + n, k[1] + f
    sockets = sum((socket_failures(r) for r in results), Counter())
    hist = merge(r.latency_us for r in results)
    rows = []
    for kind in sorted(kinds, key=lambda k: NAMES[k][1]):
        n, f = kinds[kind]
        rows.append([NAMES[kind][0], NAMES[kind][1], n, f, "N/A", "N/A", "N/A", "N/A", "N/A",
                     f"{n / seconds:.3f}", f"{f / seconds:.3f}", *(["N/A"] * len(PCT_COLUMNS))])
    unanswered = sum(n for (_, reason), n in sockets.items() if "timeout" not in reason)
    n = sum(k[0] for k in kinds.values()) + unanswered
    f = sum(k[1] for k in kinds.values()) + sum(sockets.values())
    p = percentiles_ms(hist)
    size = sum(r.bytes for r in results) / max(1, sum(r.requests for r in results))
    rows.append(["", "Aggregated", n, f, _fmt(p[0]), _fmt(mean_ms(hist)), _fmt(min(hist) / 1000 if hist else None),
                 _fmt(max(hist) / 1000 if hist else None), f"{size:.1f}", f"{n / seconds:.3f}",
                 f"{f / seconds:.3f}", *map(_fmt, p)])
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(STATS_COLUMNS)
        w.writerows(rows)


def write_failures(path: Path, results: list[SegmentResult]) -> None:
    total: Counter = Counter()
    for r in results:
        total.update(r.failures)
        total.update({(SOCKET, reason): n for (_, reason), n in socket_failures(r).items()})
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(FAILURE_COLUMNS)
        for (kind, reason), n in sorted(total.items(), key=lambda kv: -kv[1]):
            method, name = NAMES.get(kind, ("", kind))
            w.writerow([method, name, reason, n])
