"""Prometheus metrics. The hot path only bumps plain ints in dicts (one event-loop thread, no locks); a
custom collector turns them into counter and histogram families when /metrics is scraped."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from .features import SPECIES

BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
ROUTES = frozenset({"/predict", "/predict/batch", "/model-info", "/metrics", "/health", "/ready", "/docs",
                    "/openapi.json", "/docs/oauth2-redirect", "/redoc"})
MAX_SERIES = 1000


class RequestStats(Collector):
    """Requests, latency histogram (by route and status) and predictions by species, as plain numbers."""

    def __init__(self) -> None:
        self.series: dict[tuple, list] = {}  # (route, method, status) -> [count, sum, per-bucket counts]
        self.species = dict.fromkeys(SPECIES, 0)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        entry = self.series.get(key)
        if entry is None:
            if route not in ROUTES or len(self.series) >= MAX_SERIES:
                key = ("other", method if len(method) < 10 else "other", status)
            entry = self.series.setdefault(key, [0, 0.0, [0] * (len(BUCKETS) + 1)])
        entry[0] += 1
        entry[1] += seconds
        entry[2][bisect_left(BUCKETS, seconds)] += 1

    def collect(self) -> Iterator:
        requests = CounterMetricFamily("http_requests", "HTTP requests by route, method and status",
                                       labels=["route", "method", "status"])
        latency = HistogramMetricFamily("http_request_duration_seconds", "Time in the server per request",
                                        labels=["route", "status"])
        merged: dict[tuple, list] = {}
        for (route, method, status), (count, total, buckets) in list(self.series.items()):
            requests.add_metric([route, method, str(status)], count)
            into = merged.setdefault((route, str(status)), [0.0, [0] * len(buckets)])
            into[0] += total
            into[1] = [a + b for a, b in zip(into[1], buckets, strict=True)]
        for labels, (total, buckets) in merged.items():
            cumulative, running = [], 0
            for bound, n in zip((*map(str, BUCKETS), "+Inf"), buckets, strict=True):
                running += n
                cumulative.append((bound, running))
            latency.add_metric(list(labels), cumulative, total)
        predictions = CounterMetricFamily("predictions", "Predicted rows by species", labels=["species"])
        for name, count in self.species.items():
            predictions.add_metric([name], count)
        yield from (requests, latency, predictions)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.stats = RequestStats()
        reg.register(self.stats)
        self.observe = self.stats.observe  # bound once: the hot path calls it per request
        self.model_info = Gauge("served_model_info", "1 for the model version being served",
                                ["name", "version", "alias", "kind"], registry=reg)
        self.model_loaded_at = Gauge("served_model_loaded_timestamp_seconds", "When the served model was loaded",
                                     registry=reg)
        self.reloads = Counter("model_reloads_total", "Models loaded and swapped in (initial load included)",
                               registry=reg)
        self.reload_failures = Counter("model_reload_failures_total", "Failed alias checks or model loads",
                                       ["stage"], registry=reg)
        self._served_labels: tuple | None = None

    def predicted(self, species: str, count: int = 1) -> None:
        self.stats.species[species] += count

    def predicted_many(self, counts: Iterable[tuple[str, int]]) -> None:
        for species, count in counts:
            self.stats.species[species] += count

    def served(self, name: str, version: str, alias: str, kind: str, loaded_at: float) -> None:
        if self._served_labels is not None:
            self.model_info.remove(*self._served_labels)
        self._served_labels = (name, version, alias, kind)
        self.model_info.labels(*self._served_labels).set(1)
        self.model_loaded_at.set(loaded_at)
        self.reloads.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
