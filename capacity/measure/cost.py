"""What the API and the lb spent per request, from their cgroups (throttle.csv, backends/docker/throttle.py).

For a window [t0, t1] (a cell's load, a ramp step) and each container: CPU used = usage_usec(last sample in the
window) - usage_usec(first), over the time between those samples; CPU per request = that usage / the requests
served in the window. A cell counts its requests from the containers themselves (/metrics, stub_status: read
when the replicas were ready and when the load ended); a step takes the generator's count for its window
(nothing is read from the replicas in between). The idle baseline is each container's CPU between the
first sample and the load's start (the cell waits `CAPACITY_IDLE_BASELINE_S` for it, after /ready).

Measured here (issue 21): ~70 us per request straight to a replica, ~93 us through the lb at 2,000 connections,
the lb ~60-80 us more; twice that far from saturation, where every request wakes the event loop on its own.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from capacity.measure.throttle import throttled_share


def _window(rows: list[dict], t0: float, t1: float) -> list[dict]:
    return [r for r in rows if t0 <= r["timestamp"] <= t1 + 1 and r["usage_usec"] is not None]


def per_request_us(usage_usec: float | None, requests: int | None) -> float | None:
    return round(usage_usec / requests, 1) if usage_usec is not None and requests else None


def container_cost(rows: list[dict], t0: float, t1: float, requests: int | None = None) -> dict | None:
    """One container's CPU over the window: cores, usage, throttling; `requests` given or from its own counts."""
    mine = _window(rows, t0, t1)
    if len(mine) < 2 or mine[-1]["timestamp"] <= mine[0]["timestamp"]:
        return None
    first, last = mine[0], mine[-1]
    usage = last["usage_usec"] - first["usage_usec"]
    periods = last["nr_periods"] - first["nr_periods"]
    if requests is None:  # its own counts, read before and after the load (no prediction comes in between)
        counted = [r["requests"] for r in rows if r["requests"] is not None]
        requests = counted[-1] - counted[0] if len(counted) >= 2 else None
    throttled_usec = (last["throttled_usec"] - first["throttled_usec"]
                      if last["throttled_usec"] is not None and first["throttled_usec"] is not None else None)
    return {"container": first["container"], "role": first["role"],
            "cores": round(usage / 1e6 / (last["timestamp"] - first["timestamp"]), 4), "cpu_s": round(usage / 1e6, 3),
            "requests": requests, "us_per_request": per_request_us(usage, requests),
            "throttled_share": round((last["nr_throttled"] - first["nr_throttled"]) / periods, 3) if periods else None,
            "throttled_s": round(throttled_usec / 1e6, 2) if throttled_usec is not None else None}


def _by_container(rows: Iterable[dict], role: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        if r["role"] == role:
            out.setdefault(r["container"], []).append(r)
    return out


def role_cost(rows: list[dict], role: str, t0: float, t1: float, requests: int | None = None) -> dict:
    """The role's containers summed over the window: cores, us per request (of `requests`, or their own counts),
    throttled share (periods pooled over the containers, as for a ramp step) and seconds; each container's own
    figures under `replicas`."""
    each = [c for c in (container_cost(r, t0, t1) for r in _by_container(rows, role).values()) if c]
    if not each:
        return {}
    cpu_s = sum(c["cpu_s"] for c in each)
    own = [c["requests"] for c in each]
    total = requests if requests is not None else (sum(own) if all(n is not None for n in own) else None)
    throttled = [c["throttled_s"] for c in each if c["throttled_s"] is not None]
    return {"cores": round(sum(c["cores"] for c in each), 4), "requests": total,
            "us_per_request": per_request_us(cpu_s * 1e6, total),
            "throttled_share": throttled_share(rows, t0, t1, role),
            "throttled_s": round(sum(throttled), 2) if throttled else None, "replicas": each}


def idle_cores(rows: list[dict], role: str, load_start: float) -> float | None:
    """The role's CPU (cores, summed) from the first sample to the load's start: what it spends with no load."""
    first = min((r["timestamp"] for r in rows if r["role"] == role), default=None)
    if first is None or load_start - first < 1:
        return None
    cost = role_cost([r for r in rows if r["timestamp"] <= load_start], role, first, load_start)
    return cost.get("cores")


def cell_cost(rows: list[dict], load_start: float | None, load_end: float | None) -> dict:
    """The flat cost fields of a cell: per role cores, us per request, idle baseline, throttling; per replica."""
    if not rows or load_start is None or load_end is None:
        return {}
    out: dict = {}
    for role in ("api", "lb"):
        cost = role_cost(rows, role, load_start, load_end)
        if not cost:
            continue
        out |= {f"{role}_cpu_cores": cost["cores"], f"{role}_requests": cost["requests"],
                f"{role}_us_per_request": cost["us_per_request"],
                f"{role}_idle_cores": idle_cores(rows, role, load_start),
                f"{role}_throttled_share": cost["throttled_share"], f"{role}_throttled_s": cost["throttled_s"]}
        if role == "api":
            out["api_replicas_cost"] = cost["replicas"]
    return out | _host(rows, load_start, load_end)


def _host(rows: list[dict], t0: float, t1: float) -> dict:
    """The whole machine's CPU over the window (cores of all, throttle.csv's `host` rows)."""
    host = role_cost(rows, "host", t0, t1)
    return {"host_cpu_cores": host["cores"]} if host else {}


def step_cost(rows: list[dict], t0: float, t1: float, requests: int) -> dict:
    """A ramp step's cost fields: the generator's request count over the window for both roles."""
    out = {}
    for role in ("api", "lb"):
        cost = role_cost(rows, role, t0, t1, requests)
        if cost:
            out |= {f"{role}_cpu_cores": cost["cores"], f"{role}_us_per_request": cost["us_per_request"],
                    f"{role}_throttled_s": cost["throttled_s"]}
    return out | _host(rows, t0, t1)


def bench_reference(bench_dir: Path) -> dict | None:
    """`make bench`'s CPU per request for our API (one core, 64 connections) and the lb, from its newest files
    (results/bench/<date>.csv and <date>-deployed.csv): the API's own cost, to set beside a deployed one."""
    tables = sorted(p for p in bench_dir.glob("*.csv") if p.stem[:4].isdigit() and "-" not in p.stem[8:])
    if not tables:
        return None
    with open(tables[-1], newline="") as f:
        ours = next((r for r in csv.DictReader(f) if r.get("variant") == "ours"), None)
    if ours is None or not ours.get("cpu_us_per_request"):
        return None
    out = {"api_us_per_request": float(ours["cpu_us_per_request"]), "source": f"results/bench/{tables[-1].name}"}
    deployed = bench_dir / f"{tables[-1].stem}-deployed.csv"
    if deployed.exists():
        with open(deployed, newline="") as f:
            via_lb = next((r for r in csv.DictReader(f) if r.get("path") == "via-lb"), None)
        if via_lb and via_lb.get("lb_us_per_request"):
            out["lb_us_per_request"] = float(via_lb["lb_us_per_request"])
    return out
