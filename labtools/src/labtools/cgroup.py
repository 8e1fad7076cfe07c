"""A Docker container's CPU counters, read from the host's cgroup tree (nothing runs in the container)."""

from __future__ import annotations

from pathlib import Path

import psutil

CGROUP = Path("/sys/fs/cgroup")


def _read_stat(path: Path) -> dict[str, int] | None:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    return {k: int(v) for k, v in (line.split() for line in lines if len(line.split()) == 2)}


def container_cpu(container_id: str) -> dict[str, int] | None:
    """cpu.stat of a container under cgroup v2 (usage_usec, throttled_usec, nr_periods, nr_throttled) or v1
    (cpu.stat with throttled_time in ns, cpuacct.usage in ns), with v2's names; systemd or cgroupfs driver.
    None if the container has no readable cgroup here."""
    for path in (CGROUP / "system.slice" / f"docker-{container_id}.scope", CGROUP / "docker" / container_id):
        stat = _read_stat(path / "cpu.stat")
        if stat is not None:
            return stat
    for cpu, acct in ((CGROUP / "cpu" / "docker", CGROUP / "cpuacct" / "docker"),
                      (CGROUP / "cpu,cpuacct" / "docker", CGROUP / "cpu,cpuacct" / "docker")):
        stat = _read_stat(cpu / container_id / "cpu.stat")
        if stat is None:
            continue
        try:
            stat["usage_usec"] = int((acct / container_id / "cpuacct.usage").read_text()) // 1000
        except (OSError, ValueError):
            pass
        if "throttled_time" in stat:
            stat["throttled_usec"] = stat["throttled_time"] // 1000
        return stat
    return None


MIN_QUOTA_US = 1000  # the kernel refuses a CFS quota under 1 ms (and a period outside 1 ms - 1 s)


def _container_dirs(container_id: str) -> list[Path]:
    return [CGROUP / "system.slice" / f"docker-{container_id}.scope", CGROUP / "docker" / container_id,
            CGROUP / "cpu" / "docker" / container_id, CGROUP / "cpu,cpuacct" / "docker" / container_id]


def set_cpu_period(container_id: str, cpus: float, period_us: int) -> None:
    """Give a running container `cpus` cores per `period_us` CFS period, written from the host (Docker refuses
    `docker update --cpu-period` on a container created with `--cpus`, as compose's limits.cpus creates it).
    Raises ValueError for a quota under 1 ms, OSError when the container has no writable cgroup here."""
    quota = round(cpus * period_us)
    if quota < MIN_QUOTA_US or not 1000 <= period_us <= 1_000_000:
        raise ValueError(f"{cpus:g} CPU per {period_us / 1000:g} ms period is a {quota / 1000:g} ms quota: the "
                         "kernel needs a quota >= 1 ms and a period of 1-1000 ms")
    for path in _container_dirs(container_id):
        if (path / "cpu.max").exists():  # v2: "quota period" in one write
            (path / "cpu.max").write_text(f"{quota} {period_us}")
            return
        if (path / "cpu.cfs_period_us").exists():  # v1: two writes, ordered so quota/period never exceeds cpus
            shorter = period_us < int((path / "cpu.cfs_period_us").read_text())
            order = [("cpu.cfs_quota_us", quota), ("cpu.cfs_period_us", period_us)]
            for name, value in (order if shorter else order[::-1]):
                (path / name).write_text(str(value))
            return
    raise OSError(f"container {container_id[:12]}: no cgroup CPU controller found under {CGROUP}")


def cpu_period_us(container_id: str) -> int | None:
    """The container's CFS period as the kernel has it (v2 cpu.max or v1 cpu.cfs_period_us); None if unreadable."""
    for path in _container_dirs(container_id):
        try:
            if (path / "cpu.max").exists():
                return int((path / "cpu.max").read_text().split()[1])
            if (path / "cpu.cfs_period_us").exists():
                return int((path / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError, IndexError):
            return None
    return None


def container_processes(container_id: str) -> dict[int, tuple[str, float]]:
    """The container's processes now: pid -> (command line, CPU seconds so far, user + system), from its cgroup's
    cgroup.procs (read from the host; a process gone before it is read is left out)."""
    for path in _container_dirs(container_id):
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            continue
        found = {}
        for pid in pids:
            try:
                process = psutil.Process(pid)
                with process.oneshot():
                    cpu = process.cpu_times()
                    found[pid] = (" ".join(process.cmdline()), cpu.user + cpu.system)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found
    return {}
