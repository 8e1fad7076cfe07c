"""The container's own limits and usage, read from its cgroup when /metrics is scraped (a few small files).

cgroup v2 (one tree with cpu.max, cpu.stat, memory.*) and v1 (one tree per controller: cpu, cpuacct, memory),
which Docker still uses on hosts booted with v1 or hybrid cgroups. A value that cannot be read is NaN: unknown,
never an error. "No limit" is +Inf.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

NAN, INF = math.nan, math.inf
V1_UNLIMITED = 2**62  # v1 writes "no memory limit" as PAGE_COUNTER_MAX pages (9223372036854771712 on x86-64)


@dataclass(frozen=True)
class CgroupStats:
    version: str = "none"  # "2", "1" or "none"
    cpu_limit_cores: float = NAN
    cpu_usage_seconds: float = NAN
    cpu_periods: float = NAN
    cpu_throttled_periods: float = NAN
    cpu_throttled_seconds: float = NAN
    memory_limit_bytes: float = NAN
    memory_usage_bytes: float = NAN
    memory_peak_bytes: float = NAN


def read_cgroup(root: Path, self_cgroup: Path = Path("/proc/self/cgroup")) -> CgroupStats:
    if (root / "cgroup.controllers").is_file():
        return _read_v2(_own_dir(root, _memberships(self_cgroup).get("", "/")))
    if any((root / name).is_dir() for name in ("cpu", "cpuacct", "memory")):
        return _read_v1(root, _memberships(self_cgroup))
    return CgroupStats()


def _memberships(self_cgroup: Path) -> dict[str, str]:
    """controller -> this process's cgroup path ("" is the v2 tree), from lines like `4:cpu,cpuacct:/docker/x`."""
    found: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in self_cgroup.read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(","):
                found[controller] = path
    return found


def _own_dir(mount: Path, path: str) -> Path:
    """The process's own cgroup below the mount, or the mount itself: inside a container the mount already is
    the container's cgroup while /proc/self/cgroup may name the host's path for it."""
    own = mount / path.lstrip("/")
    return own if path.strip("/") and own.is_dir() else mount


def _text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def _number(path: Path, scale: float = 1.0) -> float:
    return _float(_text(path)) * scale


def _float(text: str | None) -> float:
    try:
        return float(text) if text else NAN
    except ValueError:
        return NAN


def _keyed(path: Path) -> dict[str, float]:
    """A flat-keyed file such as cpu.stat: `nr_periods 12`."""
    out = {}
    for line in (_text(path) or "").splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            out[key] = float(value)
    return out


def _read_v2(own: Path) -> CgroupStats:
    cpu = _keyed(own / "cpu.stat")
    memory_max = _text(own / "memory.max")
    return CgroupStats(
        version="2",
        cpu_limit_cores=_v2_cpu_limit(_text(own / "cpu.max")),
        cpu_usage_seconds=cpu.get("usage_usec", NAN) / 1e6,
        cpu_periods=cpu.get("nr_periods", NAN),
        cpu_throttled_periods=cpu.get("nr_throttled", NAN),
        cpu_throttled_seconds=cpu.get("throttled_usec", NAN) / 1e6,
        memory_limit_bytes=INF if memory_max == "max" else _float(memory_max),
        memory_usage_bytes=_number(own / "memory.current"),
        memory_peak_bytes=_number(own / "memory.peak"),
    )


def _v2_cpu_limit(text: str | None) -> float:
    """cpu.max is `QUOTA PERIOD` in microseconds, QUOTA "max" when there is no limit."""
    quota, _, period = (text or "").partition(" ")
    if quota == "max":
        return INF
    try:
        return float(quota) / float(period)
    except (ValueError, ZeroDivisionError):
        return NAN


def _read_v1(root: Path, paths: dict[str, str]) -> CgroupStats:
    cpu = _own_dir(root / "cpu", paths.get("cpu", "/"))
    cpuacct = _own_dir(root / "cpuacct", paths.get("cpuacct", "/"))
    memory = _own_dir(root / "memory", paths.get("memory", "/"))
    quota, period = _number(cpu / "cpu.cfs_quota_us"), _number(cpu / "cpu.cfs_period_us")
    stat = _keyed(cpu / "cpu.stat")
    limit = _number(memory / "memory.limit_in_bytes")
    return CgroupStats(
        version="1",
        cpu_limit_cores=INF if quota == -1 else quota / period if period > 0 else NAN,
        cpu_usage_seconds=_number(cpuacct / "cpuacct.usage", 1e-9),
        cpu_periods=stat.get("nr_periods", NAN),
        cpu_throttled_periods=stat.get("nr_throttled", NAN),
        cpu_throttled_seconds=stat.get("throttled_time", NAN) / 1e9,
        memory_limit_bytes=INF if limit >= V1_UNLIMITED else limit,
        memory_usage_bytes=_number(memory / "memory.usage_in_bytes"),
        memory_peak_bytes=_number(memory / "memory.max_usage_in_bytes"),
    )


# name, kind, help; names are what the Locust "Capacity" tab scrapes from every replica
FAMILIES = {
    "cpu_limit_cores": ("cgroup_cpu_limit_cores", "gauge", "CPU limit in cores (quota / period); +Inf: none"),
    "cpu_usage_seconds": ("cgroup_cpu_usage_seconds", "counter", "CPU time used by the container's cgroup"),
    "cpu_periods": ("cgroup_cpu_periods", "counter", "CFS enforcement periods elapsed (nr_periods)"),
    "cpu_throttled_periods": ("cgroup_cpu_throttled_periods", "counter",
                              "CFS periods in which the cgroup was throttled (nr_throttled)"),
    "cpu_throttled_seconds": ("cgroup_cpu_throttled_seconds", "counter", "Time the cgroup spent throttled"),
    "memory_limit_bytes": ("cgroup_memory_limit_bytes", "gauge", "Memory limit; +Inf: none"),
    "memory_usage_bytes": ("cgroup_memory_usage_bytes", "gauge", "Memory charged to the cgroup (incl. page cache)"),
    "memory_peak_bytes": ("cgroup_memory_peak_bytes", "gauge", "Highest memory usage the cgroup has seen"),
}


class CgroupCollector(Collector):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def collect(self) -> Iterator:
        stats = read_cgroup(self.root)
        info = GaugeMetricFamily("cgroup_info", "cgroup version the values below come from (none: all NaN)",
                                 labels=["version"])
        info.add_metric([stats.version], 1)
        yield info
        for field in fields(CgroupStats):
            if field.name in FAMILIES:
                name, kind, documentation = FAMILIES[field.name]
                family = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
                yield family(name, documentation, value=getattr(stats, field.name))
