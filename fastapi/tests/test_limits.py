"""/metrics exports the API's own limits: the container's cgroup (v2, v1, none; fake trees and this machine's own),
the server processes' CPU and memory, and the requests in flight."""

from __future__ import annotations

import asyncio
import math
import os
import re
import subprocess
from pathlib import Path

import msgspec
import psutil
from fastapi.testclient import TestClient

from inference.cgroup import CgroupStats, read_cgroup
from inference.metrics import Metrics, ProcessStats


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def samples(text: str) -> dict[str, float]:
    """`name{labels} value` lines of an exposition, keyed by everything before the value."""
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


V2_LIMITED = {"cgroup.controllers": "cpuset cpu io memory pids\n", "cpu.max": "50000 100000\n",
              "cpu.stat": "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 40\n"
                          "nr_throttled 7\nthrottled_usec 350000\nnr_bursts 0\nburst_usec 0\n",
              "memory.max": "536870912\n", "memory.current": "104857600\n", "memory.peak": "209715200\n"}


def test_a_v2_quota_through_the_settings_and_the_api(kit, served, tmp_path):
    with TestClient(kit.served_app(served, cgroup_root=str(tree(tmp_path, V2_LIMITED)))) as client:
        found = samples(client.get("/metrics").text)
    assert found['cgroup_info{version="2"}'] == 1.0
    assert found["cgroup_cpu_limit_cores"] == 0.5
    assert found["cgroup_cpu_usage_seconds_total"] == 2.5
    assert found["cgroup_cpu_periods_total"] == 40 and found["cgroup_cpu_throttled_periods_total"] == 7
    assert found["cgroup_cpu_throttled_seconds_total"] == 0.35
    assert found["cgroup_memory_limit_bytes"] == 512 * 2**20
    assert found["cgroup_memory_usage_bytes"] == 100 * 2**20 and found["cgroup_memory_peak_bytes"] == 200 * 2**20


def test_v2_without_limits_is_infinite_and_a_missing_file_unknown(tmp_path):
    files = {**V2_LIMITED, "cpu.max": "max 100000\n", "memory.max": "max\n"}
    del files["memory.peak"]  # kernels before 5.19
    stats = read_cgroup(tree(tmp_path, files), self_cgroup=tmp_path / "absent")
    assert stats.cpu_limit_cores == math.inf and stats.memory_limit_bytes == math.inf
    assert math.isnan(stats.memory_peak_bytes) and stats.memory_usage_bytes == 100 * 2**20


def test_v2_reads_the_process_own_cgroup_below_the_mount(tmp_path):
    tree(tmp_path, {"cgroup.controllers": "cpu memory\n", "cpu.max": "max 100000\n"})
    tree(tmp_path / "system.slice" / "api.service", {**V2_LIMITED, "cpu.max": "25000 100000\n"})
    self_cgroup = tree(tmp_path / "proc", {"cgroup": "0::/system.slice/api.service\n"}) / "cgroup"
    assert read_cgroup(tmp_path, self_cgroup).cpu_limit_cores == 0.25


def test_v1_controllers_as_docker_mounts_them(tmp_path):
    tree(tmp_path, {"cpu/cpu.cfs_quota_us": "10000\n", "cpu/cpu.cfs_period_us": "100000\n",
                    "cpu/cpu.stat": "nr_periods 120\nnr_throttled 90\nthrottled_time 4500000000\n",
                    "cpuacct/cpuacct.usage": "12000000000\n",
                    "memory/memory.limit_in_bytes": "9223372036854771712\n",
                    "memory/memory.usage_in_bytes": "1048576\n", "memory/memory.max_usage_in_bytes": "2097152\n"})
    # the host's path of the container's cgroup, which the container's mount does not show: read the mount
    self_cgroup = tree(tmp_path / "proc", {"cgroup": "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n"})
    stats = read_cgroup(tmp_path, self_cgroup / "cgroup")
    assert stats == CgroupStats(version="1", cpu_limit_cores=0.1, cpu_usage_seconds=12.0, cpu_periods=120,
                                cpu_throttled_periods=90, cpu_throttled_seconds=4.5, memory_limit_bytes=math.inf,
                                memory_usage_bytes=2**20, memory_peak_bytes=2**21)
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert read_cgroup(tmp_path, self_cgroup / "cgroup").cpu_limit_cores == math.inf


def test_no_cgroup_or_garbage_says_unknown_and_fails_nothing(tmp_path):
    text = Metrics(cgroup_root=str(tmp_path / "nothing")).render().decode()
    found = samples(text)
    assert found['cgroup_info{version="none"}'] == 1.0
    cgroup_values = [value for name, value in found.items() if name.startswith("cgroup_") and "info" not in name]
    assert len(cgroup_values) == 8 and all(math.isnan(value) for value in cgroup_values)
    tree(tmp_path, {"cgroup.controllers": "", "cpu.max": "lots\n", "cpu.stat": "usage_usec many\n",
                    "memory.max": "\n"})
    (tmp_path / "memory.current").mkdir()  # unreadable
    stats = read_cgroup(tmp_path, tmp_path / "absent")
    assert stats.version == "2" and all(math.isnan(getattr(stats, name)) for name in
                                        ("cpu_limit_cores", "cpu_usage_seconds", "memory_limit_bytes",
                                         "memory_usage_bytes"))


def test_this_machines_own_cgroup():
    stats = read_cgroup(Path("/sys/fs/cgroup"))
    assert stats.version in {"1", "2"}, "no cgroup filesystem at /sys/fs/cgroup"
    assert stats.cpu_limit_cores > 0 and stats.memory_limit_bytes > 0  # a number or +Inf, not NaN
    own = psutil.Process().cpu_times()
    assert stats.cpu_usage_seconds >= own.user + own.system  # this process is one of the cgroup's
    assert stats.memory_usage_bytes > 0
    # the peak is read after the usage, so it is at least that; v2 has memory.peak from kernel 5.19 on
    assert stats.memory_peak_bytes >= stats.memory_usage_bytes or math.isnan(stats.memory_peak_bytes)


def test_process_cpu_and_memory_of_this_process():
    before = psutil.Process().cpu_times()
    found = samples(Metrics().render().decode())
    after = psutil.Process().cpu_times()
    assert before.user + before.system <= found["process_cpu_seconds_total"] <= after.user + after.system
    rss = psutil.Process().memory_info().rss
    assert 0.5 * rss < found["process_resident_memory_bytes"] < 2 * rss


def test_process_numbers_and_in_flight_sum_over_processes(tmp_path):
    metrics = Metrics(str(tmp_path), supervised=True)  # this test's parent stands in for uvicorn's supervisor
    dead = subprocess.Popen(["true"])
    dead.wait()
    for stats in (ProcessStats(pid=os.getppid(), cpu_seconds=100.0, rss_bytes=10**6, in_flight=3),
                  ProcessStats(pid=dead.pid, cpu_seconds=50.0, rss_bytes=10**12, in_flight=9)):
        (tmp_path / f"{stats.pid}.msgpack").write_bytes(msgspec.msgpack.encode(stats))
    own = metrics.snapshot()
    parent = psutil.Process(os.getppid())
    found = samples(metrics.render().decode())
    assert found["http_requests_in_flight"] == 3  # live processes only
    assert found["process_cpu_seconds_total"] >= 150 + own.cpu_seconds + sum(parent.cpu_times()[:2])  # all
    assert 10**6 + own.rss_bytes < found["process_resident_memory_bytes"] < 10**12  # live ones


def test_requests_in_flight_while_they_run_and_after_they_fail(kit, served):
    app = kit.served_app(served)
    gate = asyncio.Event()

    async def slow_body() -> dict:
        await gate.wait()
        return {"type": "http.request", "body": b'{"bill_length_mm": 1}', "more_body": False}

    async def broken_body() -> dict:
        raise RuntimeError("connection torn down")

    async def ignore(_: dict) -> None:
        pass

    def scope(path: str) -> dict:
        return {"type": "http", "method": "POST", "path": path, "headers": [], "query_string": b""}

    async def scenario() -> list[float]:
        seen = []
        waiting = [asyncio.create_task(app(scope("/predict"), slow_body, ignore)) for _ in range(3)]
        await asyncio.sleep(0.01)
        seen.append(in_flight(app.metrics))
        gate.set()
        await asyncio.gather(*waiting)
        seen.append(in_flight(app.metrics))
        try:
            await app(scope("/predict/batch"), broken_body, ignore)
        except RuntimeError:
            seen.append(in_flight(app.metrics))
        return seen

    assert asyncio.run(scenario()) == [3, 0, 0]


def in_flight(metrics: Metrics) -> float:
    return float(re.search(r"^http_requests_in_flight (\S+)$", metrics.render().decode(), re.M).group(1))
