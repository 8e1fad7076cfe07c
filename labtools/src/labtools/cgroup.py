"""A Docker container's CPU counters, read from the host's cgroup tree (nothing runs in the container)."""

from __future__ import annotations

from pathlib import Path

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
