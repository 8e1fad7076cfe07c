"""Parsing a replica's /metrics and the lb's stub_status, rates between two scrapes, the tab's rows."""

import math

from loadtest import capacity_view as cv
from loadtest.scrape import Scrape, parse_metrics, parse_stub_status, view
from loadtest.validity import Load, judge

METRICS = """# HELP process_cpu_seconds_total CPU time
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total {cpu}
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 1.048576e+08
# TYPE cgroup_cpu_limit_cores gauge
cgroup_cpu_limit_cores 0.1
# TYPE cgroup_cpu_usage_seconds_total counter
cgroup_cpu_usage_seconds_total {cpu}
# TYPE cgroup_cpu_periods_total counter
cgroup_cpu_periods_total {periods}
# TYPE cgroup_cpu_throttled_periods_total counter
cgroup_cpu_throttled_periods_total {throttled}
# TYPE cgroup_cpu_throttled_seconds_total counter
cgroup_cpu_throttled_seconds_total {throttled_s}
# TYPE cgroup_memory_limit_bytes gauge
cgroup_memory_limit_bytes +Inf
# TYPE http_requests_in_flight gauge
http_requests_in_flight 3
# TYPE http_requests_total counter
http_requests_total{{route="/predict",method="POST",status="200"}} {ok}
http_requests_total{{route="/predict",method="POST",status="422"}} 5
# TYPE served_model_info gauge
served_model_info{{name="penguins-classifier",version="7",alias="production",kind="sklearn"}} 1
"""


def _scrape(at, cpu, periods, throttled, throttled_s, ok):
    text = METRICS.format(cpu=cpu, periods=periods, throttled=throttled, throttled_s=throttled_s, ok=ok)
    return parse_metrics("172.18.0.5:8000", at, text)


def test_rates_between_two_scrapes():
    old, new = _scrape(100.0, 10.0, 1000, 100, 5.0, 995), _scrape(105.0, 10.5, 1050, 140, 7.0, 1495)
    r = view(new, old)
    assert (r.cpu_cores, r.cpu_limit_cores, r.throttled_share, r.throttled_s_per_s) == (0.1, 0.1, 0.8, 0.4)
    assert (r.rps, r.in_flight, r.rss_bytes, r.model_version) == (100.0, 3.0, 104857600.0, "7")
    assert math.isinf(r.memory_limit_bytes) and r.throttled_periods_total == 140
    row = cv.replica_row(r)
    assert row["cpu"] == "0.10 of 0.10 cores" and row["memory"] == "RSS 100 MiB of no limit"
    assert row["pressure"] == "throttled 80% of periods, 0.40 s/s" and "model version 7" in row["detail"]


def test_missing_metrics_are_unknown_not_errors():
    only_old = parse_metrics("a:8000", 1.0, "# TYPE http_requests_total counter\nhttp_requests_total 5\n")
    r = view(parse_metrics("a:8000", 2.0, "cgroup_cpu_limit_cores NaN\nhttp_requests_total 7\n"), only_old)
    assert (r.cpu_cores, r.cpu_limit_cores, r.throttled_share, r.rps, r.model_version) == (None, None, None, 2.0,
                                                                                          None)
    assert cv.replica_row(r)["cpu"] == "? of ? cores"
    assert view(_scrape(1.0, 1, 1, 0, 0, 1), None).rps is None  # first scrape: no rate yet
    failed = view(Scrape("b:8000", 3.0, error="timed out"), None)
    assert cv.replica_row(failed)["detail"] == "scrape failed: timed out"


def test_stub_status_and_lb_row():
    text = "Active connections: 291 \nserver accepts handled requests\n 1 2 3 \nReading: 0 Writing: 7 Waiting: 284 \n"
    status = parse_stub_status(text)
    assert status == {"active": 291, "reading": 0, "writing": 7, "waiting": 284}
    assert cv.lb_row("lb", status, 12, None)["traffic"] == "291 active connections"
    assert "unavailable: refused" in cv.lb_row("lb", {}, 0, "refused")["detail"]


def test_verdict_and_load_rows():
    load = Load(users=10_000, think_time_s=1.75, response_time_s=0.0, delivered_rps=1_400.0)
    verdict = judge(load, [], [])
    assert cv.verdict_row(verdict, load)["item"] == "INVALID"
    assert cv.load_row(verdict, load)["traffic"] == "5,714 vs 1,400 req/s (24%)"
    idle = Load(0, 1.75, None, 0.0)
    assert cv.verdict_row(judge(idle), idle)["item"] == "IDLE"
