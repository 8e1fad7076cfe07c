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
    over = f" ({diff / bar * 100:.0f}% over)" if bar else ""
    margin = f"{fmt.format(-diff)}{unit} to spare" if ok else f"{fmt.format(diff)}{unit} over{over}"
    return Check(target, f"{fmt.format(value)}{unit}", f"<= {fmt.format(bar)}{unit}", "PASS" if ok else "MISS",
                 margin)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


PEERS = {"usual": "usual handler", "mlflow-serve": "mlflow models serve", "mlserver": "MLServer (V2)",
         "mlserver-batch": "MLServer (V2, adaptive batching)", "mlserver-invocations": "MLServer (/invocations)",
         "bentoml": "BentoML", "bentoml-batch": "BentoML (adaptive batching)"}
CEILING_PCT = 75


def evaluate(rows: dict, connections: int, image_added_mb: float | None, behind_lb=None) -> list[Check]:
    """`rows` maps variant key -> Measurement (bench.run); missing variants give n/a. `behind_lb`: the deployed
    path (bench.deployed.Deployed), its reason text, or None."""
    def get(key: str, attr: str):
        row = rows.get(key)
        return None if row is None else row.value(attr)

    ours_rps = get("ours", "rps")
    peers = [at_least(f"ours / {label}, requests/s per core", _ratio(ours_rps, get(key, "rps")), 20, "x")
             for key, label in PEERS.items() if key in rows]
    return [
        *peers,
        at_least("ours / bare-ASGI ceiling, requests/s", _pct(_ratio(ours_rps, get("ceiling", "rps"))), CEILING_PCT,
                 "%", "{:.0f}"),
        at_least("ours / bare-ASGI ceiling, by server CPU per request (less sensitive to a shared machine)",
                 _pct(_ratio(get("ceiling", "cpu_us_per_request"), get("ours", "cpu_us_per_request"))),
                 CEILING_PCT, "%", "{:.0f}"),
        at_most("errors (>= 400 and socket) in every measurement", _errors(rows.values(), behind_lb), 0, "",
                "{:.0f}"),
        at_most(f"ours p99 at {connections} connections", get("ours", "p99_ms"), 10, " ms", "{:.2f}"),
        at_most("ours RSS after load (goal 150 MB)", get("ours", "rss_mb"), 200, " MB", "{:.0f}"),
        at_most("ours ready after process start", get("ours", "ready_s"), 5, " s", "{:.2f}"),
        at_most("api image added to python:3.11-slim-bookworm", image_added_mb, 250, " MB", "{:.0f}"),
    ]


def _errors(rows, behind_lb) -> float | None:
    loads = [lo for r in rows for lo in (r.loaded, r.single) if lo is not None]
    if behind_lb is not None and not isinstance(behind_lb, str):
        loads += [behind_lb.direct, behind_lb.via_lb, behind_lb.direct_single, behind_lb.via_lb_single]
    return sum(lo.status_errors + lo.socket_errors for lo in loads) if loads else None


def _pct(ratio: float | None) -> float | None:
    return None if ratio is None else ratio * 100
