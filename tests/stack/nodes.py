"""Other "hosts" for the multi-host tests: real Docker engines in network namespaces (../shared/offline-docker/node).

Each node has its own address on a lab bridge (10.200.0.10, .11, ...) and reaches the main engine's host side at
10.200.0.1 only. Nodes cannot pull or build: they get images from the main engine (`node load`). Nodes share this
machine's cores, so they test topology and failure handling, not capacity.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from compose import ROOT

NODE = ROOT.parent / "shared" / "offline-docker" / "node"
HOST_IP = "10.200.0.1"


def node_tool() -> Path:
    path = Path(os.environ.get("OFFLINE_DOCKER_NODE", NODE))
    if not path.exists() or shutil.which("ip") is None:
        raise RuntimeError(f"multi-host tests need the node tool ({path}) and iproute2, as root")
    return path


def node(*args: str, timeout: float = 300) -> str:
    result = subprocess.run([str(node_tool()), *args], capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"node {' '.join(args)} -> {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def docker_host(name: str) -> str:
    return f"unix:///run/offline-docker/{name}.sock"


def docker(name: str | None, *args: str, timeout: float = 120, check: bool = True,
           env: dict | None = None) -> subprocess.CompletedProcess:
    """`docker ARGS` on node `name` (None: the main engine), from the project root."""
    full_env = {**os.environ, **(env or {})}
    if name is not None:
        full_env["DOCKER_HOST"] = docker_host(name)
    result = subprocess.run(["docker", *args], cwd=ROOT, env=full_env, capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} on {name or 'main'} -> {result.returncode}\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


@contextlib.contextmanager
def nodes(names: tuple[str, ...], images: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Nodes up with `images` loaded; always removed afterwards, also after a failure. Yields name -> address."""
    addresses = {}
    try:
        for name in names:
            node("down", name, timeout=120)  # leftovers of an interrupted run
            out = node("up", name, timeout=120)
            addresses[name] = out.split("NODE_IP=")[1].split()[0]
            node("load", name, *images, timeout=600)
        yield addresses
    finally:
        for name in reversed(names):
            with contextlib.suppress(Exception):
                node("down", name, timeout=120)
