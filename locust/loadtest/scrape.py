"""What the API replicas and the lb say about themselves: parsed scrapes and rates between two of them.

Each replica's own `/metrics` (Prometheus text, prometheus_client's parser): process CPU and RSS, its cgroup's
CPU limit, usage and throttling counters, memory limit, requests in flight and served, the model version it
serves. A metric a replica does not export (yet) is None: shown as unknown, never an error. The lb's nginx
`stub_status` page gives its active connections. Parsing is pure; fetching is `fetch_text` (urllib3, which is
cooperative under Locust's gevent monkey-patching) with a short timeout and no retries.
"""

from __future__ import annotations

import math
import re
import socket
from dataclasses import dataclass, field

import urllib3
from prometheus_client.parser import text_string_to_metric_families

# Sample names as exposed (counters with their _total suffix), summed over their labels.
SUMMED = ("process_cpu_seconds_total", "process_resident_memory_bytes", "cgroup_cpu_limit_cores",
          "cgroup_cpu_usage_seconds_total", "cgroup_cpu_periods_total", "cgroup_cpu_throttled_periods_total",
          "cgroup_cpu_throttled_seconds_total", "cgroup_memory_limit_bytes", "cgroup_memory_usage_bytes",
          "cgroup_memory_peak_bytes", "http_requests_in_flight", "http_requests_total")


@dataclass(frozen=True)
class Scrape:
    """One replica's /metrics at one moment."""

    address: str
    at: float  # monotonic seconds
    values: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None
    error: str | None = None

    def get(self, name: str) -> float | None:
        value = self.values.get(name)
        return None if value is None or math.isnan(value) else value


@dataclass(frozen=True)
class ReplicaView:
    """A replica as the Capacity tab shows it: gauges from the last scrape, rates since the one before."""

    address: str
    cpu_cores: float | None  # CPU seconds per second
    cpu_limit_cores: float | None  # inf: no limit; None: unknown
    throttled_share: float | None  # throttled periods / periods
    throttled_s_per_s: float | None
    throttled_periods_total: float | None
    rss_bytes: float | None
    memory_limit_bytes: float | None
    in_flight: float | None
    rps: float | None
    model_version: str | None
    error: str | None = None


def parse_metrics(address: str, at: float, text: str) -> Scrape:
    values: dict[str, float] = {}
    version = None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in SUMMED:
                values[sample.name] = values.get(sample.name, 0.0) + sample.value
            elif sample.name == "served_model_info" and sample.value > 0:
                version = sample.labels.get("version")
    return Scrape(address, at, values, version)


def _rate(new: Scrape, old: Scrape | None, name: str) -> float | None:
    if old is None or new.at <= old.at:
        return None
    a, b = new.get(name), old.get(name)
    if a is None or b is None or a < b:  # unknown, or the replica restarted
        return None
    return (a - b) / (new.at - old.at)


def view(new: Scrape, old: Scrape | None) -> ReplicaView:
    periods = _rate(new, old, "cgroup_cpu_periods_total")
    throttled = _rate(new, old, "cgroup_cpu_throttled_periods_total")
    share = None
    if periods is not None and throttled is not None:
        share = throttled / periods if periods > 0 else 0.0
    cpu = _rate(new, old, "cgroup_cpu_usage_seconds_total")
    return ReplicaView(
        address=new.address,
        cpu_cores=cpu if cpu is not None else _rate(new, old, "process_cpu_seconds_total"),
        cpu_limit_cores=new.get("cgroup_cpu_limit_cores"),
        throttled_share=share,
        throttled_s_per_s=_rate(new, old, "cgroup_cpu_throttled_seconds_total"),
        throttled_periods_total=new.get("cgroup_cpu_throttled_periods_total"),
        rss_bytes=new.get("process_resident_memory_bytes"),
        memory_limit_bytes=new.get("cgroup_memory_limit_bytes"),
        in_flight=new.get("http_requests_in_flight"),
        rps=_rate(new, old, "http_requests_total"),
        model_version=new.model_version,
        error=new.error,
    )


def parse_stub_status(text: str) -> dict[str, int]:
    """nginx stub_status -> {"active": .., "reading": .., "writing": .., "waiting": ..} (what it says)."""
    out = {}
    if m := re.search(r"Active connections:\s*(\d+)", text):
        out["active"] = int(m[1])
    for key in ("reading", "writing", "waiting"):
        if m := re.search(rf"{key.capitalize()}:\s*(\d+)", text):
            out[key] = int(m[1])
    return out


def resolve(service: str) -> list[str]:
    """Every address:port the service name resolves to (one per replica with Docker's DNS)."""
    host, _, port = service.rpartition(":")
    infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    return sorted({f"[{i[4][0]}]:{i[4][1]}" if ":" in i[4][0] else f"{i[4][0]}:{i[4][1]}" for i in infos})


def fetch_text(pool: urllib3.PoolManager, url: str, timeout_s: float) -> str:
    response = pool.request("GET", url, timeout=urllib3.Timeout(total=timeout_s), retries=False,
                            preload_content=True)
    if response.status != 200:
        raise OSError(f"HTTP {response.status}")
    return response.data.decode("utf-8", "replace")
