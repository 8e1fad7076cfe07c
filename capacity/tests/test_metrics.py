"""Per-cell numbers: Locust's CSV files through loadtest.summary, resource samples, docker stats lines."""

import shutil
from pathlib import Path

import pytest

from capacity.backends.docker.stats import parse_stats_line
from capacity.core.docker import parse_size
from capacity.core.records import CellEvents
from capacity.core.samples import read_samples, sample_writer
from capacity.measure.metrics import cell_metrics, locust_summary, resource_peaks

DATA = Path(__file__).with_name("data")


@pytest.fixture
def run_ok(tmp_path):
    return Path(shutil.copytree(DATA / "locust_ok", tmp_path / "cell"))


def test_locust_summary_of_a_clean_run(run_ok):
    summary = locust_summary(run_ok, 90.0)
    metrics = cell_metrics(summary, [], CellEvents())
    assert metrics.requests > 0 and metrics.failures == 0
    assert metrics.generator_valid is True
    assert metrics.p95_ms is not None and metrics.users_reached > 0
    assert metrics.rps_max >= metrics.rps_mean > 0


def test_locust_summary_flags_a_hot_generator(tmp_path):
    cell = Path(shutil.copytree(DATA / "locust_hot", tmp_path / "cell"))
    metrics = cell_metrics(locust_summary(cell, 90.0), [], CellEvents())
    assert metrics.generator_valid is False
    assert metrics.generator_cpu_peak_pct == 97.5
    assert metrics.failures > 0 and metrics.failures_per_s > 0


def test_no_locust_files():
    with pytest.raises(FileNotFoundError):
        locust_summary(DATA, 90.0)
    metrics = cell_metrics(None, [], CellEvents(error="not ready", oom_killed=1))
    assert metrics.requests == 0 and metrics.error == "not ready" and metrics.oom_killed == 1


def test_resource_peaks_sum_cpu_over_replicas_per_sample(tmp_path):
    writer = sample_writer(tmp_path / "resources.csv")
    writer.write([
        {"timestamp": 1.0, "role": "api", "name": "api-1", "cpu_pct": 60, "mem_bytes": 100 * 2**20},
        {"timestamp": 1.0, "role": "api", "name": "api-2", "cpu_pct": 50, "mem_bytes": 120 * 2**20},
        {"timestamp": 2.0, "role": "api", "name": "api-1", "cpu_pct": 90, "mem_bytes": 130 * 2**20},
        {"timestamp": 2.0, "role": "api", "name": "api-2", "cpu_pct": 10, "mem_bytes": 110 * 2**20},
        {"timestamp": 2.0, "role": "lb", "name": "lb", "cpu_pct": 12.5, "mem_bytes": 10 * 2**20},
        {"timestamp": 2.0, "role": "generator", "name": "worker-1", "cpu_pct": 95, "mem_bytes": 0},
    ])
    writer.close()
    peaks = resource_peaks(read_samples(tmp_path / "resources.csv"))
    assert peaks["api_cpu_peak_pct"] == 110 and peaks["api_cpu_mean_pct"] == 105
    assert peaks["api_mem_peak_mb"] == 130
    assert peaks["lb_cpu_peak_pct"] == 12.5 and peaks["generator_cpu_sampled_pct"] == 95
    assert peaks["samples"] == 2


def test_docker_stats_lines():
    roles = {"abc123def4567890": "api", "fedcba987654": "lb"}
    line = ('{"BlockIO":"0B / 0B","CPUPerc":"87.25%","Container":"abc123def4567890","ID":"abc123def456",'
            '"MemPerc":"20.1%","MemUsage":"102.9MiB / 512MiB","Name":"main-api-1","NetIO":"1kB / 2kB","PIDs":"9"}')
    row = parse_stats_line(line, roles, 5.0)
    assert row == {"timestamp": 5.0, "role": "api", "name": "main-api-1", "cpu_pct": 87.25,
                   "mem_bytes": int(102.9 * 2**20), "mem_limit_bytes": 512 * 2**20}
    assert parse_stats_line('{"ID":"000000000000","CPUPerc":"1%"}', roles, 5.0) is None
    assert parse_stats_line("not json", roles, 5.0) is None


@pytest.mark.parametrize(("text", "expected"), [("1.5GiB", int(1.5 * 2**30)), ("300MB", 300_000_000),
                                                ("0B", 0), ("12kB", 12_000), ("junk", 0)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected
