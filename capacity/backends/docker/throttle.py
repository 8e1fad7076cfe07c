"""The api replicas' and the lb's cgroup CPU (docker backend), sampled from the host while a cell runs.

Every `interval` s the host reads each container's `cpu.stat` (no exec, nothing runs inside the container):
cumulative usage_usec, nr_periods, nr_throttled and throttled_usec, one row per container in `throttle.csv`,
and one row `host` with the whole machine's busy CPU time (/proc/stat), for the machine's budget.
Twice per cell, when the replicas are ready and when the load has ended, it also reads how many requests each
one has served: an api replica's prediction routes from its /metrics (~2-5 ms of its CPU, twice per cell), the
lb's total from nginx's stub_status (port 8081). measure/throttle.py reads the rows, measure/cost.py turns them
into cores used, CPU per request, the idle baseline and the throttled share of any window (a cell, a step).

Below ~0.25 core a CPU quota inflates tail latency through throttling (100 ms periods), so every measurement
records it. The native backend pins whole cores with taskset (no quota, no container): nothing to record there.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from capacity.core.periodic import Periodic
from capacity.core.samples import THROTTLE_COLUMNS as COLUMNS
from labtools import container_cpu

PREDICTION_ROUTES = ("/predict", "/predict/batch", "/model-info")  # what the generators send
_STUB = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s*$", re.MULTILINE)  # accepts handled requests


def host_busy_usec() -> int:
    """CPU time the whole machine has been busy since boot, all cores (/proc/stat: all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) * 1_000_000 // os.sysconf("SC_CLK_TCK")


def api_requests(metrics_text: str, routes: tuple[str, ...] | None = PREDICTION_ROUTES) -> int:
    """Requests an api replica has served on `routes` (None: every route), from its Prometheus text (every status
    counted)."""
    return int(sum(sample.value for family in text_string_to_metric_families(metrics_text)
                    if family.name == "http_requests" for sample in family.samples
                    if sample.name == "http_requests_total"
                    and (routes is None or sample.labels.get("route") in routes)))


def lb_requests(stub_status_text: str) -> int:
    """Requests nginx has handled since it started (stub_status' third counter)."""
    found = _STUB.search(stub_status_text)
    if found is None:
        raise ValueError("not nginx stub_status output")
    return int(found.group(3))


def container_addresses(ids: list[str]) -> dict[str, str]:
    """Each container's first network address (the host reaches Docker's bridge networks directly)."""
    out = subprocess.run(["docker", "inspect", "--format", "{{.Id}} {{json .NetworkSettings.Networks}}", *ids],
                         capture_output=True, text=True, timeout=30).stdout
    addresses = {}
    for line in out.splitlines():
        cid, _, networks = line.partition(" ")
        ips = [n.get("IPAddress") for n in (json.loads(networks) or {}).values() if n.get("IPAddress")]
        if ips:
            addresses[cid] = ips[0]
    return addresses


def served(role: str, address: str, timeout: float = 5.0) -> int | None:
    """Requests the container has served so far, or None when it does not answer."""
    url = f"http://{address}:8000/metrics" if role == "api" else f"http://{address}:8081/nginx_status"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (a container we started)
            text = response.read().decode()
        return api_requests(text) if role == "api" else lb_requests(text)
    except (OSError, ValueError):
        return None


class CgroupSampler(Periodic):
    """Every `interval` s: cpu.stat of the given containers (id -> api | lb) and the host's busy time; `count()`
    adds the requests each container has served."""

    tolerated = (OSError,)  # a missed sample is not worth a crashed run

    def __init__(self, roles: dict[str, str], out: Path, interval: float = 2.0, idle_s: float = 10.0):
        super().__init__("capacity-cgroup", interval, join_timeout=35)
        self.roles, self.out, self.idle_s = dict(roles), out, idle_s
        self._addresses: dict[str, str] = {}
        self._lock = threading.Lock()

    def _rows(self, with_requests: bool) -> list[tuple]:
        now = round(time.time(), 3)
        rows: list[tuple] = [(now, "host", "host", host_busy_usec(), 0, 0, 0, "")]
        for cid, role in self.roles.items():
            stat = container_cpu(cid)
            if stat is None:
                continue
            requests = served(role, self._addresses[cid]) if with_requests and cid in self._addresses else None
            rows.append((now, role, cid[:12], stat.get("usage_usec", 0), stat.get("nr_periods", 0),
                         stat.get("nr_throttled", 0), stat.get("throttled_usec", 0),
                         "" if requests is None else requests))
        return rows

    def _write(self, rows: list[tuple]) -> None:
        with self._lock:
            new = not self.out.exists()
            with open(self.out, "a", newline="") as f:
                writer = csv.writer(f)
                if new:
                    writer.writerow(COLUMNS)
                writer.writerows(rows)

    def count(self) -> None:
        """One sample with every container's requests served (when ready, and once the load has ended)."""
        if not self._addresses:
            self._addresses = container_addresses(list(self.roles))
        self._write(self._rows(with_requests=True))

    def tick(self) -> None:
        self._write(self._rows(with_requests=False))

    def finish(self) -> None:
        """Stop sampling; the last sample counts the requests."""
        self.stop()
        try:
            self.count()
        except (OSError, subprocess.SubprocessError):
            pass
