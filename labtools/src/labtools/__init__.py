"""What capacity/, bench/ and tests/ share: processes we start and stop, free loopback ports, waiting for an HTTP
endpoint, appending CSV rows, the environment of a Locust run, and a container's cgroup CPU counters."""

from labtools.cgroup import container_cpu, container_processes, cpu_period_us, set_cpu_period
from labtools.csvfile import CsvAppender
from labtools.http import answers, wait_http
from labtools.locustenv import compose_locust_env, locust_env
from labtools.processes import QUIET_ENV, Managed, free_port, spawn, start_server, stop_group
from labtools.proctree import TreeMeter, tree_pids, tree_rss_bytes

__all__ = [
    "QUIET_ENV",
    "CsvAppender",
    "container_processes",
    "cpu_period_us",
    "set_cpu_period",
    "Managed",
    "TreeMeter",
    "answers",
    "compose_locust_env",
    "container_cpu",
    "free_port",
    "locust_env",
    "spawn",
    "start_server",
    "stop_group",
    "tree_pids",
    "tree_rss_bytes",
    "wait_http",
]
