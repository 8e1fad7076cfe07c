"""`docker stats` of every api and lb task ON ITS NODE, plus the local Locust containers, in a background thread.

Each tick asks the manager for the running tasks (a replaced task is picked up), then runs one
`docker --host <node endpoint> stats --no-stream` per node, all nodes at once, and writes resources.csv rows
(the docker backend's columns plus `node`), all with the tick's timestamp so per-tick sums span the nodes.
"""

from __future__ import annotations

import subprocess
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from capacity.backends.docker.stats import generator_containers, parse_stats_line
from capacity.backends.swarm.service import Task, docker_on
from capacity.core.periodic import Periodic
from labtools import CsvAppender


@dataclass(frozen=True)
class Node:
    id: str
    name: str  # what resources.csv records: the endpoint's name (capacity.core.endpoints), the manager's hostname
    endpoint: str | None  # None: the manager's engine, the one this process talks to


def node_rows(node: Node, roles: dict[str, str], now: float) -> list[dict]:
    """One `docker stats` on `node` over containers (id -> role) -> resources.csv rows."""
    if not roles:
        return []
    result = docker_on(node.endpoint, "stats", "--no-stream", "--format", "{{json .}}", *roles, timeout=30)
    rows = [row for line in result.stdout.splitlines() if (row := parse_stats_line(line, roles, now))]
    return [{**row, "node": node.name} for row in rows]


class SwarmSampler(Periodic):
    """Every `interval` s: `running()` -> [(task, role)], sampled per node; the generator's containers (compose
    project `generator_project`) on the manager."""

    def __init__(self, writer: CsvAppender, nodes: dict[str, Node], manager: Node,
                 running: Callable[[], list[tuple[Task, str]]], interval: float, generator_project: str):
        super().__init__("capacity-swarm-stats", interval, join_timeout=70, paced=True)
        self.writer, self.nodes, self.manager, self.running = writer, nodes, manager, running
        self.generator_project = generator_project
        self.pool: ThreadPoolExecutor | None = None

    tolerated = (subprocess.SubprocessError, OSError, ValueError, KeyError)  # a missed sample, not a crashed sweep

    def run(self) -> None:
        with ThreadPoolExecutor(max_workers=max(len(self.nodes), 1) + 1) as self.pool:
            super().run()

    def tick(self) -> None:
        pool = self.pool
        by_node: dict[str, dict[str, str]] = defaultdict(dict)
        for task, role in self.running():
            if task.container_id:
                by_node[task.node_id][task.container_id] = role
        now = round(time.time(), 3)
        jobs = [pool.submit(node_rows, self.nodes[nid], roles, now) for nid, roles in by_node.items()
                if nid in self.nodes]
        generators = dict.fromkeys(generator_containers(self.generator_project), "generator")
        jobs.append(pool.submit(node_rows, self.manager, generators, now))
        self.writer.write([row for job in jobs for row in job.result(timeout=60)])
