"""The benchmark issue's targets, checked against one run: each PASS or MISS, and by how much."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    target: str
    measured: str
    bar: str
    status: str  # PASS, MISS or n/a
    margin: str


def at_least(target: str, value: float | None, bar: float, unit: str, fmt: str = "{:.1f}") -> Check:
    if value is None:
        return Check(target, "n/a", f">= {fmt.format(bar)}{unit}", "n/a", "not measured")
    ok = value >= bar
    pct = (value / bar - 1) * 100
    margin = f"{pct:+.0f}% vs bar" if ok else f"{-pct:.0f}% short ({fmt.format(bar - value)}{unit} more needed)"
    return Check(target, f"{fmt.format(value)}{unit}", f">= {fmt.format(bar)}{unit}", "PASS" if ok else "MISS",
                 margin)


def at_most(target: str, value: float | None, bar: float, unit: str, fmt: str = "{:.1f}") -> Check:
    if value is None:
        return Check(target, "n/a", f"<= {fmt.format(bar)}{unit}", "n/a", "not measured")
    ok = value <= bar
    diff = value - bar
    margin = (f"{fmt.format(-diff)}{unit} to spare" if ok
              else f"{fmt.format(diff)}{unit} over ({diff / bar * 100:.0f}% over)")
    return Check(target, f"{fmt.format(value)}{unit}", f"<= {fmt.format(bar)}{unit}", "PASS" if ok else "MISS",
                 margin)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def evaluate(rows: dict, connections: int, image_added_mb: float | None) -> list[Check]:
    """`rows` maps variant key -> Measurement (bench.run); missing variants give n/a."""
    def get(key: str, attr: str):
        row = rows.get(key)
        return None if row is None else row.value(attr)

    ours_rps = get("ours", "rps")
    return [
        at_least("ours / usual handler, requests/s", _ratio(ours_rps, get("usual", "rps")), 20, "x"),
        at_least("ours / mlflow models serve, requests/s", _ratio(ours_rps, get("mlflow-serve", "rps")), 20, "x"),
        at_least("ours / bare-ASGI ceiling, requests/s", _pct(_ratio(ours_rps, get("ceiling", "rps"))), 50, "%",
                 "{:.0f}"),
        at_most(f"ours p99 at {connections} connections", get("ours", "p99_ms"), 10, " ms", "{:.2f}"),
        at_most("ours RSS after load (goal 150 MB)", get("ours", "rss_mb"), 200, " MB", "{:.0f}"),
        at_most("ours ready after process start", get("ours", "ready_s"), 5, " s", "{:.2f}"),
        at_most("api image added to python:3.11-slim-bookworm", image_added_mb, 250, " MB", "{:.0f}"),
    ]


def _pct(ratio: float | None) -> float | None:
    return None if ratio is None else ratio * 100
