"""Locust workers on other Docker hosts for the docker backend: image there, workers up per cell, joined, removed.

For every cell, before the master starts, `docker compose -f docker-compose-locust-workers.yaml up -d --no-build`
runs once per endpoint with DOCKER_HOST=<endpoint>: `workers_per_endpoint` workers whose container hostname is
the endpoint's name, joining the master published on HOST_BIND:LOCUST_MASTER_NODE_PORT (they retry for up to
5 minutes, so starting them first is fine). The master waits for local + remote workers
(LOCUST_EXPECT_WORKERS, at most LOCUST_EXPECT_WORKERS_MAX_WAIT s); its log says who reported ready, and an
endpoint whose workers did not all join fails the cell with its name and its workers' last log lines.
`down` runs after every cell, also on errors and Ctrl-C (run_cell's finally and the backend's close()).
Workers on other hosts cannot resolve `lb`: the master gets LOCUST_HOST=http://HOST_BIND:API_PORT and sends
it to every worker.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

from capacity.core.cells import CellError, GeneratorError
from capacity.core.endpoints import Endpoint

WORKERS_COMPOSE = "docker-compose-locust-workers.yaml"
LOCUST_IMAGE = "capacity-lab-locust:latest"  # docker-compose-locust.yaml's `image:`, built by the docker backend
ROSTER = "locust_workers.json"  # loadtest.workers' roster for the CSV prefix `locust` (LOCUST_CSV)
LOCAL = "local"  # the generator host name of workers on the master's own engine
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # compose's progress output, even with --no-color
_READY = re.compile(r"(\S+)_[0-9a-f]{32} \(index \d+\) reported as ready\. ")


def _tail(text: str, lines: int = 5) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def check_master_address(host_bind: str) -> None:
    """Remote workers join the master at HOST_BIND: it must be an address other hosts can reach."""
    try:
        address = ipaddress.ip_address(host_bind)
    except ValueError:
        address = None
    if host_bind == "localhost" or (address is not None and (address.is_loopback or address.is_unspecified)):
        raise CellError(f"workers on other hosts join the Locust master at HOST_BIND, which is {host_bind}: they "
                        "cannot reach it. Set HOST_BIND to this machine's address on a network those hosts reach "
                        "(e.g. HOST_BIND=192.0.2.10): the runner publishes the lb and the Locust master there.")


class RemoteWorkers:
    def __init__(self, endpoints: list[Endpoint], per_endpoint: int, master: str, root: Path):
        self.endpoints, self.per_endpoint, self.master, self.root = endpoints, per_endpoint, master, root

    @property
    def count(self) -> int:
        return len(self.endpoints) * self.per_endpoint

    def _docker(self, endpoint: Endpoint | None, *args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "DOCKER_CONTEXT"}  # DOCKER_HOST alone picks the engine
        if endpoint is not None:
            env |= {"DOCKER_HOST": endpoint.url, "LOCUST_MASTER_HOST": self.master,
                    "LOCUST_WORKERS": str(self.per_endpoint), "LOCUST_WORKER_HOSTNAME": endpoint.name}
        try:
            return subprocess.run(["docker", *args], env=env, cwd=self.root, timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            where = f"on {endpoint.url}" if endpoint else "here"
            raise GeneratorError(f"`docker {' '.join(args[:2])}` {where} did not finish within {timeout:g} s") from None

    def _compose(self, endpoint: Endpoint, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return self._docker(endpoint, "compose", "-f", WORKERS_COMPOSE, *args, timeout=timeout, capture_output=True,
                            text=True)

    def _image_id(self, endpoint: Endpoint | None) -> str:
        out = self._docker(endpoint, "image", "inspect", "--format", "{{.Id}}", LOCUST_IMAGE, timeout=60,
                           capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else ""

    def check_engines(self) -> None:
        for endpoint in self.endpoints:
            version = self._docker(endpoint, "version", "--format", "{{.Server.Version}}", timeout=60,
                                   capture_output=True, text=True)
            if version.returncode != 0:
                raise GeneratorError(f"worker endpoint {endpoint.url}: no Docker engine answers: "
                                     f"{_tail(version.stderr)}")

    def sync_image(self) -> None:
        """Every endpoint holds the Locust image just built here, sent with docker save | load where it differs:
        other hosts need neither a checkout nor a registry."""
        local = self._image_id(None)
        for endpoint in self.endpoints:
            if local and self._image_id(endpoint) != local:
                self._send_image(endpoint)

    def _send_image(self, endpoint: Endpoint) -> None:
        with subprocess.Popen(["docker", "save", LOCUST_IMAGE], stdout=subprocess.PIPE, cwd=self.root) as save:
            loaded = self._docker(endpoint, "load", "--quiet", stdin=save.stdout, timeout=900, capture_output=True,
                                  text=True)
        if save.returncode != 0 or loaded.returncode != 0:
            raise GeneratorError(f"worker endpoint {endpoint.url}: could not load {LOCUST_IMAGE} there: "
                                 f"{_tail(loaded.stderr)}")

    def master_env(self, local_workers: int, api_port: int) -> dict[str, str]:
        return {"LOCUST_HOST": f"http://{self.master}:{api_port}",
                "LOCUST_EXPECT_WORKERS": str(local_workers + self.count)}

    def up(self) -> None:
        for endpoint in self.endpoints:
            result = self._compose(endpoint, "up", "-d", "--no-build", "--remove-orphans")
            if result.returncode != 0:
                raise GeneratorError(f"Locust workers on {endpoint.name} ({endpoint.url}) did not start: "
                                     f"{_tail(result.stderr)}")

    def check_joined(self, master_log: str) -> None:
        """Every endpoint's workers reported ready to the master (its log); otherwise name who did not."""
        joined = Counter(_READY.findall(master_log))
        short = [e for e in self.endpoints if joined[e.name] < self.per_endpoint]
        if not short:
            return
        port = os.environ.get("LOCUST_MASTER_NODE_PORT", "5557")
        lines = [f"{e.name} ({e.url}): {joined[e.name]} of {self.per_endpoint} joined; its workers' log:\n"
                 + self._worker_log(e) for e in short]
        raise GeneratorError(f"Locust workers did not join the master at {self.master}:{port} (can those hosts "
                             "reach it?):\n" + "\n".join(lines))

    def _worker_log(self, endpoint: Endpoint) -> str:
        try:
            out = self._compose(endpoint, "logs", "--no-color", "--tail", "3", timeout=30).stdout
            return _tail(_ANSI.sub("", out), 6) or "-"
        except (OSError, CellError) as exc:
            return f"- ({exc})"

    def down(self) -> list[str]:
        """Remove every endpoint's workers; returns the endpoints where that failed (cleanup goes on regardless)."""
        failed = []
        for endpoint in self.endpoints:
            try:
                result = self._compose(endpoint, "down", "--timeout", "10", "--remove-orphans")
            except CellError:  # timed out
                failed.append(endpoint.url)
                continue
            if result.returncode != 0:
                failed.append(endpoint.url)
        return failed


def generator_hosts(cell_dir: Path, master_log: str, remote: list[str]) -> dict[str, int]:
    """Workers per host that took part: the master's roster if it wrote one, else who reported ready in its log.
    Hosts not named by an endpoint are the master's own engine (`local`: container ids as hostnames)."""
    roster = cell_dir / ROSTER
    if roster.is_file():
        hosts = [w["host"] for w in json.loads(roster.read_text())["workers"]]
    else:
        hosts = _READY.findall(master_log)
    return dict(sorted(Counter(h if h in remote else LOCAL for h in hosts).items()))
