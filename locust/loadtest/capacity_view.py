"""The Capacity tab's rows: typed state in, one dict of short strings per row out (pure, no Locust).

Columns: section, item (a name), cpu, pressure (run-queue wait or CPU throttling), memory, traffic (users, in flight,
req/s) and detail. The JSON beside the rows (`capacity` on /stats/requests) carries the same numbers unformatted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadtest.scrape import ReplicaView
from loadtest.validity import Load, Verdict

# No "name" key: Locust's table sorts by "name" when it has one; without it the rows keep this order.
COLUMNS = (("section", "Section"), ("item", "Name"), ("cpu", "CPU"), ("pressure", "Waiting / throttled"),
           ("memory", "Memory"), ("traffic", "Users / in flight / req/s"), ("detail", "Detail"))
UNKNOWN = "?"


@dataclass(frozen=True)
class Process:
    """A Locust process as the tab shows it (a worker's live report, or the master's own reading)."""

    name: str
    host: str
    cpu_pct: float | None
    runqueue_pct: float | None
    users: int | None
    stale: bool = False


def _pct(value: float | None) -> str:
    return UNKNOWN if value is None else f"{value:.0f}%"


def _num(value: float | None, fmt: str = ",.0f") -> str:
    return UNKNOWN if value is None else format(value, fmt)


def _mib(value: float | None) -> str:
    if value is None:
        return UNKNOWN
    return "no limit" if math.isinf(value) else f"{value / 2**20:,.0f} MiB"


def _cores(value: float | None) -> str:
    if value is None:
        return UNKNOWN
    return "no limit" if math.isinf(value) else f"{value:.2f}"


def row(section: str, name: str, cpu: str = "", pressure: str = "", memory: str = "", traffic: str = "",
        detail: str = "") -> dict[str, str]:
    return {"section": section, "item": name, "cpu": cpu, "pressure": pressure, "memory": memory,
            "traffic": traffic, "detail": detail}


def verdict_row(verdict: Verdict, load: Load) -> dict[str, str]:
    if load.users == 0:
        return row("Verdict", "IDLE", detail="no users running: start a test")
    if verdict.reasons:
        detail = "; ".join(verdict.reasons)
    elif not load.steady:
        detail = "nothing wrong seen yet"
    else:
        detail = "offered and delivered load agree; the generator keeps up"
    if verdict.notes:
        detail += " (" + "; ".join(verdict.notes) + ")"
    return row("Verdict", verdict.label, detail=detail)


def load_row(verdict: Verdict, load: Load) -> dict[str, str]:
    ratio = UNKNOWN if verdict.ratio is None else f"{verdict.ratio:.0%}"
    rt = UNKNOWN if load.response_time_s is None else f"{load.response_time_s * 1000:,.0f} ms"
    return row("Load", "offered vs delivered", traffic=f"{_num(verdict.offered_rps)} vs "
               f"{_num(verdict.delivered_rps)} req/s ({ratio})",
               detail=f"{load.users:,} users / (think {load.think_time_s:g} s + response {rt})"
               + ("" if load.steady else "; spawning"))


def process_row(p: Process, section: str) -> dict[str, str]:
    return row(section, f"{p.name} ({p.host})", cpu=_pct(p.cpu_pct),
               pressure=f"waited for a CPU {_pct(p.runqueue_pct)}",
               traffic="" if p.users is None else f"{p.users:,} users",
               detail="no report for a while" if p.stale else "")


def replica_row(r: ReplicaView) -> dict[str, str]:
    if r.error:
        return row("API replica", r.address, detail=f"scrape failed: {r.error}")
    throttled = (f"throttled {_pct(None if r.throttled_share is None else 100 * r.throttled_share)} of periods, "
                 f"{_num(r.throttled_s_per_s, '.2f')} s/s")
    return row("API replica", r.address, cpu=f"{_cores(r.cpu_cores)} of {_cores(r.cpu_limit_cores)} cores",
               pressure=throttled, memory=f"RSS {_mib(r.rss_bytes)} of {_mib(r.memory_limit_bytes)}",
               traffic=f"{_num(r.in_flight)} in flight, {_num(r.rps, ',.1f')} req/s",
               detail=f"model version {r.model_version or UNKNOWN}; throttled periods so far "
               f"{_num(r.throttled_periods_total)}")


def lb_row(name: str, status: dict[str, int], upstream_errors: int, error: str | None) -> dict[str, str]:
    conns = f"{status['active']:,} active connections" if "active" in status else UNKNOWN
    detail = f"502/503/504 and connection errors seen by Locust: {upstream_errors:,}"
    return row("Load balancer", name, traffic=conns,
               detail=detail + (f"; stub_status unavailable: {error}" if error else ""))
