"""The pure parts of the swarm backend: a cell as `docker service update` arguments, tasks read from
`docker inspect`, when an update has converged, and which tasks failed.

The backend (backends/swarm/backend.py) runs the docker commands; everything here is data in, data out.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from capacity.core.cells import Cell, CellError

FAILED = ("failed", "rejected")  # task states of a replica that died or never started


def docker_on(endpoint: str | None, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """`docker ARGS` against a node's engine (None: the engine this process talks to, the manager)."""
    host = ["--host", endpoint] if endpoint else []
    return subprocess.run(["docker", *host, *args], capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class Limits:
    nano_cpus: int
    memory_bytes: int

    def args(self) -> list[str]:
        return ["--limit-cpu", f"{self.nano_cpus / 1e9:g}", "--limit-memory", str(self.memory_bytes)]


@dataclass(frozen=True)
class ServiceKnobs:
    """What a cell sets on the api service; `processes` None = WEB_CONCURRENCY not in its env."""

    replicas: int
    limits: Limits
    processes: int | None

    @classmethod
    def of_cell(cls, cell: Cell) -> ServiceKnobs:
        return cls(cell.replicas, Limits(round(cell.cpus * 1e9), cell.memory_bytes), cell.processes)

    @classmethod
    def of_service(cls, service: dict) -> ServiceKnobs:
        """From `docker service inspect` JSON: the knobs the stack was deployed (or last updated) with."""
        spec = service["Spec"]
        replicated = spec.get("Mode", {}).get("Replicated")
        if replicated is None:
            raise CellError(f"swarm backend: service {spec.get('Name')} is not replicated (mode: global?)")
        env = dict(e.split("=", 1) for e in spec["TaskTemplate"]["ContainerSpec"].get("Env", []) if "=" in e)
        workers = env.get("WEB_CONCURRENCY", "")
        return cls(int(replicated.get("Replicas", 1)), limits_of(spec["TaskTemplate"]),
                   int(workers) if workers.isdigit() else None)

    def update_args(self) -> list[str]:
        env = (["--env-rm", "WEB_CONCURRENCY"] if self.processes is None
               else ["--env-add", f"WEB_CONCURRENCY={self.processes}"])
        return ["--replicas", str(self.replicas), *self.limits.args(), *env]


def limits_of(template: dict) -> Limits:
    """Limits of a service's TaskTemplate or a task's Spec (0 = none)."""
    limits = (template.get("Resources") or {}).get("Limits") or {}
    return Limits(int(limits.get("NanoCPUs", 0)), int(limits.get("MemoryBytes", 0)))


@dataclass(frozen=True)
class Task:
    id: str
    name: str  # <service>.<slot>, as `docker service ps` prints it
    node_id: str
    state: str
    desired: str
    container_id: str
    exit_code: int | None
    error: str
    limits: Limits

    @classmethod
    def of(cls, data: dict, service: str) -> Task:
        """From `docker inspect <task id>` JSON."""
        status = data.get("Status", {})
        container = status.get("ContainerStatus") or {}
        return cls(id=data["ID"], name=f"{service}.{data.get('Slot', '?')}", node_id=data.get("NodeID", ""),
                   state=status.get("State", ""), desired=data.get("DesiredState", ""),
                   container_id=container.get("ContainerID", ""), exit_code=container.get("ExitCode"),
                   error=status.get("Err", ""), limits=limits_of(data.get("Spec", {})))


def converged(service: dict, tasks: list[Task], want: ServiceKnobs) -> bool:
    """Every task meant to run is running with the wanted limits, as many as wanted, the update done.
    A rolled-back or paused update raises: waiting longer would not help."""
    update = service.get("UpdateStatus") or {}
    state = update.get("State", "")
    if state.startswith("rollback") or state == "paused":
        raise CellError(f"swarm: the update of {service['Spec']['Name']} was {state.replace('_', ' ')}: "
                        f"{update.get('Message', '')}")
    meant = [t for t in tasks if t.desired == "running"]
    return (state in ("", "completed") and len(meant) == want.replicas
            and all(t.state == "running" and t.limits == want.limits for t in meant))


def failed_since(before: set[str], tasks: list[Task]) -> list[Task]:
    """Tasks that failed or were rejected and were not already so in `before` (task ids)."""
    return [t for t in tasks if t.state in FAILED and t.id not in before]
