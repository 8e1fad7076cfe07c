"""Prometheus metrics. The hot path only bumps plain numbers (one event-loop thread, no locks); a custom
collector turns them into families when /metrics is scraped.

With several server processes (WEB_CONCURRENCY > 1) each one writes its numbers to METRICS_DIR every second
and a scrape, whichever process answers it, sums all of them: counters and histograms over every process that
ever ran (as Prometheus' multiprocess mode does), gauges (`served_model_info`, memory, requests in flight) over
the live ones, plus uvicorn's supervisor process. The container's cgroup limits come from cgroup.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import msgspec
import psutil
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from .cgroup import CgroupCollector
from .features import SPECIES

BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
ROUTES = frozenset({"/predict", "/predict/batch", "/model-info", "/metrics", "/health", "/ready", "/docs",
                    "/openapi.json", "/docs/oauth2-redirect", "/redoc"})
MAX_SERIES = 1000
STAGES = ("load", "resolve")
SHARE_EVERY_S = 1.0
log = logging.getLogger("inference.metrics")


class ProcessStats(msgspec.Struct):
    """One process's numbers as it shares them with the others (msgpack) and as a scrape sums them."""

    pid: int
    series: dict[str, list] = msgspec.field(default_factory=dict)  # "route method status" -> [n, sum, buckets]
    species: dict[str, int] = msgspec.field(default_factory=lambda: dict.fromkeys(SPECIES, 0))
    reloads: int = 0
    failures: dict[str, int] = msgspec.field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    model: list[str] | None = None  # name, version, alias, kind
    loaded_at: float = 0.0
    in_flight: int = 0
    cpu_seconds: float = 0.0
    rss_bytes: int = 0


class ServiceCollector(Collector):
    """The families of /metrics, summed over this process and the snapshots the other processes shared."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def peers(self) -> list[ProcessStats]:
        if self.metrics.share_dir is None:
            return []
        found = []
        for path in self.metrics.share_dir.glob("*.msgpack"):
            if path.stem == str(self.metrics.pid):
                continue
            with contextlib.suppress(OSError, msgspec.DecodeError, msgspec.ValidationError):
                found.append(msgspec.msgpack.decode(path.read_bytes(), type=ProcessStats))
        return found

    def collect(self) -> Iterator:
        own = self.metrics.snapshot()
        everyone = [own, *self.peers()]
        live = [own, *(p for p in everyone[1:] if alive(p.pid))]
        yield from request_families(everyone)
        yield counter("predictions", "Predicted rows by species", "species",
                      {s: sum(p.species.get(s, 0) for p in everyone) for s in SPECIES})
        yield counter("model_reload_failures", "Failed alias checks or model loads", "stage",
                      {s: sum(p.failures.get(s, 0) for p in everyone) for s in STAGES})
        reloads = CounterMetricFamily("model_reloads", "Models loaded and swapped in (initial load included)")
        reloads.add_metric([], sum(p.reloads for p in everyone))
        yield reloads
        info = GaugeMetricFamily("served_model_info", "Server processes serving this model version",
                                 labels=["name", "version", "alias", "kind"])
        for labels, processes in sorted(Counter(tuple(p.model) for p in live if p.model).items()):
            info.add_metric(list(labels), processes)
        yield info
        loaded = GaugeMetricFamily("served_model_loaded_timestamp_seconds", "When the served model was loaded")
        loaded.add_metric([], max(p.loaded_at for p in live))
        yield loaded
        yield from self.process_families(everyone, live)

    def process_families(self, everyone: list[ProcessStats], live: list[ProcessStats]) -> Iterator:
        cpu, rss = sum(p.cpu_seconds for p in everyone), sum(p.rss_bytes for p in live)
        if self.metrics.supervisor is not None:
            with contextlib.suppress(psutil.Error):
                supervisor_cpu, supervisor_rss = usage(self.metrics.supervisor)
                cpu, rss = cpu + supervisor_cpu, rss + supervisor_rss
        yield CounterMetricFamily("process_cpu_seconds", "CPU time (user + system) of the server processes",
                                  value=cpu)
        yield GaugeMetricFamily("process_resident_memory_bytes", "Resident memory of the server processes",
                                value=rss)
        yield GaugeMetricFamily("http_requests_in_flight", "Requests being served, this scrape included",
                                value=sum(p.in_flight for p in live))


def counter(name: str, documentation: str, label: str, values: dict[str, float]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for value, count in values.items():
        family.add_metric([value], count)
    return family


def request_families(stats: Iterable[ProcessStats]) -> Iterator:
    requests = CounterMetricFamily("http_requests", "HTTP requests by route, method and status",
                                   labels=["route", "method", "status"])
    latency = HistogramMetricFamily("http_request_duration_seconds", "Time in the server per request",
                                    labels=["route", "status"])
    by_request: Counter[tuple[str, str, str]] = Counter()
    by_route: dict[tuple[str, str], list] = {}  # (route, status) -> [sum, per-bucket counts]
    for process in stats:
        for key, (count, total, buckets) in list(process.series.items()):
            route, method, status = key.split(" ")
            by_request[route, method, status] += count
            into = by_route.setdefault((route, status), [0.0, [0] * len(buckets)])
            into[0] += total
            into[1] = [a + b for a, b in zip(into[1], buckets, strict=True)]
    for labels, count in by_request.items():
        requests.add_metric(list(labels), count)
    for labels, (total, buckets) in by_route.items():
        cumulative, running = [], 0
        for bound, n in zip((*map(str, BUCKETS), "+Inf"), buckets, strict=True):
            running += n
            cumulative.append((bound, running))
        latency.add_metric(list(labels), cumulative, total)
    yield from (requests, latency)


def usage(process: psutil.Process) -> tuple[float, int]:
    """CPU seconds (user + system, not of waited-for children) and resident bytes of one process."""
    with process.oneshot():
        times, memory = process.cpu_times(), process.memory_info()
    return times.user + times.system, memory.rss


def supervisor(supervised: bool) -> psutil.Process | None:
    if not supervised:
        return None
    try:
        return psutil.Process(os.getppid())
    except psutil.Error:
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


class Metrics:
    """This process's numbers as plain ints (the hot path), turned into a ProcessStats to share or scrape."""

    def __init__(self, share_dir: str | None = None, cgroup_root: str = "/sys/fs/cgroup",
                 supervised: bool = False) -> None:
        self.pid, self.share_dir = os.getpid(), Path(share_dir) if share_dir else None
        self.process = psutil.Process(self.pid)
        # several workers: uvicorn's supervisor, their parent, counts as a server process too
        self.supervisor = supervisor(supervised)
        self.in_flight = 0  # the ASGI entry point adds one per request and takes it back when it ends
        self.series: dict[tuple[str, str, int], list] = {}  # (route, method, status) -> [n, sum, buckets]
        self.species = dict.fromkeys(SPECIES, 0)
        self.failures = dict.fromkeys(STAGES, 0)
        self.reloads, self.model, self.loaded_at = 0, None, 0.0
        self.registry = CollectorRegistry(auto_describe=True)
        self.registry.register(ServiceCollector(self))
        self.registry.register(CgroupCollector(cgroup_root))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        entry = self.series.get((route, method, status))
        if entry is None:  # a new series: bound how many there can be, whatever clients send
            known = route in ROUTES and len(self.series) < MAX_SERIES
            method = method if len(method) < 10 and method.isalpha() else "other"
            key = (route if known else "other", method, status)
            entry = self.series.setdefault(key, [0, 0.0, [0] * (len(BUCKETS) + 1)])
        entry[0] += 1
        entry[1] += seconds
        entry[2][bisect_left(BUCKETS, seconds)] += 1

    def predicted(self, species: str, count: int = 1) -> None:
        self.species[species] += count

    def predicted_many(self, counts: Iterable[tuple[str, int]]) -> None:
        for species, count in counts:
            self.species[species] += count

    def served(self, name: str, version: str, alias: str, kind: str, loaded_at: float) -> None:
        self.model, self.loaded_at = [name, version, alias, kind], loaded_at
        self.reloads += 1

    def failed(self, stage: str) -> None:
        self.failures[stage] = self.failures.get(stage, 0) + 1

    def snapshot(self) -> ProcessStats:
        # routes and methods hold no spaces (odd ones are "other"), so one string per series key is safe
        series = {f"{route} {method} {status}": [n, total, list(buckets)]
                  for (route, method, status), (n, total, buckets) in list(self.series.items())}
        cpu, rss = usage(self.process)
        return ProcessStats(pid=self.pid, series=series, species=dict(self.species), reloads=self.reloads,
                            failures=dict(self.failures), model=self.model, loaded_at=self.loaded_at,
                            in_flight=self.in_flight, cpu_seconds=cpu, rss_bytes=rss)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    def share(self) -> None:
        """Write this process's numbers for the others (atomically: a reader never sees half a file)."""
        if self.share_dir is None:
            return
        path = self.share_dir / f"{self.pid}.msgpack"
        partial = path.with_suffix(".partial")
        partial.write_bytes(msgspec.msgpack.encode(self.snapshot()))
        partial.replace(path)

    async def share_periodically(self) -> None:
        if self.share_dir is None:  # one process: nothing to share, no wake-up every second
            return
        warned = False
        try:
            while True:
                try:
                    self.share()
                except OSError as exc:  # keep serving; the other processes' scrapes miss this one's numbers
                    if not warned:
                        log.warning("event=metrics_share_failed dir=%s error=%r", self.share_dir, str(exc))
                    warned = True
                await asyncio.sleep(SHARE_EVERY_S)
        finally:
            with contextlib.suppress(OSError):
                self.share()  # the last numbers of a process that stops
