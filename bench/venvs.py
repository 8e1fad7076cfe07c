"""Virtualenvs of the peer servers, one per lock file in bench/peers, built once and reused by later runs.

Each lives in .venv/bench/<name>-<hash of its lock>: a changed lock builds a fresh one, an unchanged one costs
nothing. Built with uv from PyPI on the Python that runs the benchmark; a half-built one is rebuilt.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from bench.variants import ROOT, VENV_BIN

PEERS = ROOT / "bench" / "peers"
CACHE = ROOT / ".venv" / "bench"
BUILD_TIMEOUT_S = 600  # per uv step; a cold cache downloads ~120 wheels per virtualenv


def lock_of(name: str) -> Path:
    return PEERS / f"{name}.lock"


def path_of(name: str) -> Path:
    digest = hashlib.sha256(lock_of(name).read_bytes()).hexdigest()[:12]
    return CACHE / f"{name}-{digest}"


def ensure(name: str, log: Path, timeout: float = BUILD_TIMEOUT_S) -> Path:
    """The bin/ folder of the virtualenv for bench/peers/<name>.lock, built now if it is not complete."""
    venv = path_of(name)
    done = venv / ".complete"
    if done.exists():
        return venv / "bin"
    shutil.rmtree(venv, ignore_errors=True)
    uv = str(VENV_BIN / "uv")
    steps = [[uv, "venv", "-q", "--python", str(VENV_BIN / "python"), str(venv)],
             [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "-r", str(lock_of(name))]]
    with open(log, "a") as out:
        for step in steps:
            result = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
            if result.returncode != 0:
                raise RuntimeError(f"building the {name} virtualenv failed (exit {result.returncode}), see {log}")
    done.write_text(lock_of(name).read_text())
    return venv / "bin"
