"""A few lines that say what machine and conditions a run had, for the report."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from capacity.core.provenance import code_version


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gb() -> str:
    try:
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        return f"{kb / 1024 / 1024:.1f} GB"
    except (OSError, IndexError, ValueError):
        return "unknown"


def _wrk_version() -> str:
    try:
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return "wrk not found"
    return (out.stdout or out.stderr).splitlines()[0].split(" Copyright")[0] if (out.stdout or out.stderr) else "?"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def describe() -> dict[str, str]:
    return {
        "CPU": f"{_cpu_model()}, {os.cpu_count()} logical cores ({len(os.sched_getaffinity(0))} usable)",
        "Memory": _memory_gb(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "Load generator": _wrk_version(),
        "Code": code_version(),
    }
