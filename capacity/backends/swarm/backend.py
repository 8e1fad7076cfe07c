"""Run a cell on a Docker Swarm stack (docker-stack.yaml deployed as `lab`): `docker service update`, not recreate.

Per cell: `docker service update --replicas N --limit-cpu X --limit-memory M --env-add WEB_CONCURRENCY=P lab_api`,
rolled out as the stack file says (one task at a time, the new one started first: no request is lost), then
wait until every task runs with the new limits (`docker service ps`), /ready through the lb, and the docker
backend's Locust run (docker-compose-locust.yaml on the manager, on the stack's attachable overlay network,
LOCUST_HOST = the lb's published port on its node's address). Every api and lb task is sampled with
`docker stats` on the engine of the node that runs it (--node-endpoint URL per worker node); failed or
rejected tasks during the cell are its restarts (OOM kills checked on their node). close() restores the knobs
the stack had when the run began. Nothing is built or deployed here: the stack must be up, its images on every node.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from capacity.backends.deployed import run_deployed, run_home, wait_ready_through_lb
from capacity.backends.startup import Startup
from capacity.backends.swarm.service import Limits, ServiceKnobs, Task, converged, docker_on, failed_since
from capacity.backends.swarm.stats import Node, SwarmSampler
from capacity.core.cells import Cell, CellError
from capacity.core.endpoints import parse_endpoints
from capacity.core.grid import DEFAULT_CPU_PERIOD_MS, Grid, Lb, memory_bytes
from capacity.core.records import CellEvents
from capacity.core.settings import Settings
from capacity.generators import compose_generator
from labtools import CsvAppender, answers


def _check(result, what: str) -> str:
    if result.returncode != 0:
        raise CellError(f"swarm backend: {what} failed: {result.stderr.strip()[-400:]}")
    return result.stdout


class SwarmBackend:
    """A Deployment (backends.deployed): the docker backend's cell run and /ready wait, by composition."""

    name = "swarm"

    def __init__(self, settings: Settings):
        self.settings = settings
        self.root, self.results = run_home()
        self.generator = compose_generator("locust", settings, self.root, self.results)  # prepare() sets the grid's
        self.stack = settings.stack
        try:  # bad input fails here, before anything is asked or changed
            self.endpoints = parse_endpoints([u for u in settings.node_endpoints.split(",") if u.strip()])
        except ValueError as exc:
            raise CellError(f"swarm backend: --node-endpoint: {exc}") from None
        self.nodes: dict[str, Node] = {}
        self.manager: Node | None = None
        self.defaults: ServiceKnobs | None = None  # the api's knobs before the first cell, restored by close()
        self.lb_defaults: Limits | None = None
        self.locust_host = ""
        self._before: set[str] = set()  # the api's task ids when the running cell began

    def _service(self, name: str) -> dict:
        return json.loads(_check(docker_on(None, "service", "inspect", f"{self.stack}_{name}"),
                                 f"docker service inspect {self.stack}_{name}"))[0]

    def _tasks(self, name: str, running_only: bool = False) -> list[Task]:
        filters = ["--filter", "desired-state=running"] if running_only else []
        ids = _check(docker_on(None, "service", "ps", "-q", "--no-trunc", *filters, f"{self.stack}_{name}"),
                     "docker service ps").split()
        if not ids:
            return []
        return [Task.of(t, name) for t in json.loads(_check(docker_on(None, "inspect", *ids), "docker inspect"))]

    def _running(self) -> list[tuple[Task, str]]:
        return [(t, role) for role in ("api", "lb") for t in self._tasks(role, running_only=True)
                if t.state == "running"]

    def prepare(self, grid: Grid, out: Path) -> list[str]:
        if grid.grid.cpu_period_ms != [DEFAULT_CPU_PERIOD_MS]:
            raise CellError("swarm backend: cpu_period_ms needs the docker backend (it writes the replicas' cgroups)")
        if not out.resolve().is_relative_to(self.results):
            raise CellError(f"swarm backend: --out must be under {self.results} (the generator writes through "
                            "that mount)")
        if grid.generators.endpoints:
            raise CellError("swarm backend: Locust workers on other hosts (--worker-endpoint, [generators]) "
                            "are not supported yet; Locust runs on the manager")
        self._find_nodes()
        if not self.stack_running():
            self.stack_up()  # raises: this backend does not deploy stacks
        api = self._service("api")
        self.defaults = ServiceKnobs.of_service(api)
        self._check_images(api["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"])
        self._check_network()
        url = f"http://{self.settings.host_bind}:{self.settings.api_port}/ready"
        if not answers(url, timeout=5):
            raise CellError(f"swarm backend: {url} does not answer: is stack {self.stack} trained and its lb "
                            "published on this port (API_PORT)?")
        self.locust_host = self._lb_address()
        self.generator = compose_generator(grid.load.generator, self.settings, self.root, self.results)
        try:
            generator_notes = self.generator.prepare(grid)
        except CellError as exc:
            raise CellError(f"swarm backend: {exc}") from None
        names = ", ".join(sorted(n.name for n in self.nodes.values()))
        return [f"Swarm backend: stack {self.stack} on {len(self.nodes)} node(s) ({names}); api knobs changed by "
                f"rolling `docker service update`; lb fixed at {grid.lb.cpus:g} CPU / {grid.lb.memory} on its node; "
                f"the generator ({grid.load.generator}) on the manager against {self.locust_host}. "
                "Nodes that share one machine's cores measure topology, not capacity.", *generator_notes]

    def _find_nodes(self) -> None:
        info = _check(docker_on(None, "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} "
                                                         "{{.Swarm.NodeID}}"), "docker info").split()
        if info[:2] != ["active", "true"]:
            raise CellError("swarm backend: this Docker engine is not a Swarm manager (`docker info`: Swarm "
                            f"{' '.join(info[:1]) or '?'}); run it where `docker node ls` works")
        listing = _check(docker_on(None, "node", "ls", "--format", "{{.ID}} {{.Hostname}} {{.Status}} "
                                                                  "{{.Availability}}"), "docker node ls")
        ready = {f[0]: f[1] for f in (line.split() for line in listing.splitlines()) if f[2:] == ["Ready", "Active"]}
        self.manager = Node(info[2], ready.get(info[2], "manager"), None)
        self.nodes = {self.manager.id: self.manager}
        for endpoint in self.endpoints:
            node_id = docker_on(endpoint.url, "info", "--format", "{{.Swarm.NodeID}}", timeout=20).stdout.strip()
            if node_id not in ready:
                raise CellError(f"swarm backend: endpoint {endpoint.url} is not a ready node of this swarm "
                                f"(its engine says node {node_id or '?'}); check `docker node ls`")
            self.nodes[node_id] = Node(node_id, endpoint.name, endpoint.url)
        missing = sorted(ready[n] for n in ready if n not in self.nodes)
        if missing:
            raise CellError(f"swarm backend: no Docker endpoint for node(s) {', '.join(missing)}: pass "
                            "--node-endpoint URL for each (unix:///... or ssh://user@host) so that its tasks "
                            "are sampled on it")

    def _check_images(self, image: str) -> None:
        image = image.split("@")[0]  # the stack deploys by name (--resolve-image never)
        lacking = [n.name for n in self.nodes.values() if docker_on(n.endpoint, "image", "inspect", image).returncode]
        if lacking:
            raise CellError(f"swarm backend: image {image} is missing on {', '.join(lacking)}; nodes cannot build: "
                            f"`docker save {image} | docker --host <node endpoint> load` (here: "
                            f"../shared/offline-docker/node load NODE {image}), then deploy the stack again")

    def _check_network(self) -> None:
        network = f"{self.stack}_default"
        out = docker_on(None, "network", "inspect", "--format", "{{.Attachable}}", network).stdout.strip()
        if out != "true":
            raise CellError(f"swarm backend: network {network} is missing or not attachable: Locust joins it")

    def _lb_address(self) -> str:
        lb = [t for t, role in self._running() if role == "lb"]
        if not lb:
            raise CellError(f"swarm backend: {self.stack}_lb has no running task")
        addr = docker_on(None, "node", "inspect", "--format", "{{.Status.Addr}}", lb[0].node_id).stdout.strip()
        if addr in ("", "0.0.0.0", "127.0.0.1"):  # some engines report no address for the manager itself
            info = docker_on(None, "info", "--format", "{{.Swarm.NodeAddr}}").stdout.strip()
            addr = info or addr
        return f"http://{addr}:{self.settings.api_port}"

    def _set_lb(self, want: Limits) -> None:
        """The grid's lb limits (an lb update stops nginx briefly: only when they differ, before any load)."""
        lb = ServiceKnobs.of_service(self._service("lb"))
        if lb.limits == want:
            return
        self.lb_defaults = self.lb_defaults or lb.limits
        _check(docker_on(None, "service", "update", "--detach", "--no-resolve-image", *want.args(),
                         f"{self.stack}_lb", timeout=60), "docker service update (lb)")
        self._wait_converged("lb", ServiceKnobs(lb.replicas, want, lb.processes))

    def update(self, want: ServiceKnobs) -> None:
        """One rolling `docker service update` of the api, then wait until it has converged."""
        _check(docker_on(None, "service", "update", "--detach", "--no-resolve-image", *want.update_args(),
                         f"{self.stack}_api", timeout=60), "docker service update")
        self._wait_converged("api", want)

    def _wait_converged(self, name: str, want: ServiceKnobs) -> None:
        budget = self.settings.ready_timeout_s + 60 * want.replicas  # one task at a time, each healthy first
        deadline = time.monotonic() + budget
        while not converged(self._service(name), self._tasks(name, running_only=True), want):
            if time.monotonic() > deadline:
                raise CellError(f"{self.stack}_{name} did not converge to {want} within {budget:g} s "
                                f"(`docker service ps {self.stack}_{name}`)")
            time.sleep(2)

    def run_cell(self, cell: Cell, grid: Grid, cell_dir: Path) -> CellEvents:
        """A rolling service update to the cell's knobs, then the shared cell run (backends.deployed)."""
        return run_deployed(self, cell, grid, cell_dir)

    def begin_cell(self) -> None:
        self._before = {t.id for t in self._tasks("api")}

    def deploy(self, cell: Cell, grid: Grid) -> dict:
        self._set_lb(Limits(round(grid.lb.cpus * 1e9), memory_bytes(grid.lb.memory)))
        self.update(ServiceKnobs.of_cell(cell))
        return {**cell.env(grid.lb), "LOCUST_HOST": self.locust_host, "LOCUST_NETWORK": f"{self.stack}_default"}

    def cost_sampler(self, cell_dir: Path) -> None:
        """Tasks run on other nodes' engines: their cgroups are not this host's (no throttle.csv, no cost)."""
        return None

    def wait_ready(self) -> None:
        wait_ready_through_lb(self.settings)

    def sampler(self, writer: CsvAppender) -> SwarmSampler:
        return SwarmSampler(writer, self.nodes, self.manager, self._running, self.settings.sample_interval_s,
                            self.generator.project)

    def cell_events(self, error: str | None) -> CellEvents:
        failed = failed_since(self._before, self._tasks("api"))
        notes, ooms = [], 0
        for task in failed:
            node = self.nodes.get(task.node_id)
            oom = docker_on(node.endpoint if node else None, "inspect", "--format", "{{.State.OOMKilled}}",
                            task.container_id).stdout.strip() if task.container_id else ""
            killed = oom == "true" or (oom == "" and task.exit_code == 137)
            ooms += killed
            notes.append(f"{'OOM kill' if killed else task.state}: {task.name} on "
                         f"{node.name if node else task.node_id[:12]} ({task.error})")
        return CellEvents(oom_killed=ooms, restarts=len(failed), error=error, notes=notes)

    def stop_load(self) -> None:
        """End the running load now (the generator still writes its files)."""
        self.generator.stop()

    def startup(self, cell: Cell, lb: Lb, log: Path) -> Startup:
        raise CellError("swarm backend: start-up timing recreates Compose services; not on a Swarm stack yet")

    def shared_stack(self) -> SwarmBackend:
        return self

    def stack_running(self) -> bool:
        return docker_on(None, "service", "inspect", f"{self.stack}_api").returncode == 0

    def stack_up(self) -> None:
        raise CellError(f"swarm backend: no stack {self.stack} here (no {self.stack}_api service); deploy it with "
                        f"`docker stack deploy --resolve-image never -c docker-stack.yaml {self.stack}` (README, "
                        "\"When one machine is not enough\")")

    def stack_down(self) -> None:
        """The stack is deployed by its owner, not by this runner: it stays."""

    def close(self) -> None:
        """The generator down; the api (and lb) back to the knobs they had when the run began."""
        self.generator.close()
        try:
            if self.defaults is not None:
                self.update(self.defaults)
            if self.lb_defaults is not None:
                self._set_lb(self.lb_defaults)
        except (CellError, OSError) as exc:
            print(f"swarm backend: restoring {self.stack}'s defaults: {exc}", file=sys.stderr)
