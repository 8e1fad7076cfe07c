"""Generate docker-stack.yaml (Docker Swarm) from docker-compose.yaml: one source of truth, no drift.

    python swarm/stackfile.py            # (make stack-file) rewrite docker-stack.yaml
    python swarm/stackfile.py --check    # exit 1 when docker-stack.yaml is not what docker-compose.yaml gives

`docker stack deploy` reads only the version-3 file format (no `depends_on` conditions, no `build`, no
`pull_policy`), so the Compose file is translated, not copied. `${VAR:-default}` stays as it is: the Docker CLI
interpolates it at deploy time, so API_REPLICAS / API_CPUS / API_MEMORY and the ports work as with Compose.
What Swarm needs on top:
- image names only (the Compose file names every build; nodes get the images with `docker save | load`);
- read-only file mounts (nginx.conf, the bucket script) become Swarm configs, which reach every node;
- `endpoint_mode: dnsrr` and host-mode published ports: no virtual IP, no ingress mesh (they need IPVS, which
  some kernels lack); the lb (nginx `resolve`) balances over every api task that the service name resolves to;
- placement: the replicated service (api) spreads over the nodes; every singleton stays on the manager:
  postgres and minio because their volumes are local to it, the lb so that its port is on a known address,
  mlflow and the one-shot jobs so that the other nodes need only the api image;
- one-shot jobs (the bucket job, the trainer) restart only on failure, a bounded number of times. Compose's
  `depends_on` ordering does not exist in Swarm: every service waits for what it needs with bounded retries
  (bucket job and trainer) or keeps trying (mlflow restarts, the api polls the registry, nginx re-resolves).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCE, TARGET = ROOT / "docker-compose.yaml", ROOT / "docker-stack.yaml"
COMPOSE_ONLY = ("build", "pull_policy", "depends_on", "restart", "container_name")
MANAGER = ["node.role == manager"]
ONE_SHOT = {"condition": "on-failure", "delay": "5s", "max_attempts": 10}
ROLLING = {"parallelism": 1, "order": "start-first", "failure_action": "rollback", "monitor": "10s"}
PORT = re.compile(r"^(?:(?:\$\{[^}]*\}|[\d.]+):)?(?P<published>\$\{[^}]*\}|\d+):(?P<target>\d+)$")
HEADER = """\
# GENERATED from docker-compose.yaml by `make stack-file` (swarm/stackfile.py): do not edit, edit the Compose file.
# Docker Swarm: images first on every node (README "When one machine is not enough"), then
#   API_REPLICAS=4 API_CPUS=0.5 docker stack deploy --resolve-image never -c docker-stack.yaml lab
"""


def load(path: Path = SOURCE) -> dict:
    """The Compose file with its anchors and `<<` merges resolved, and `x-` extension fields dropped."""
    data = yaml.safe_load(path.read_text())
    return {k: v for k, v in data.items() if not k.startswith("x-")}


def port(spec: str) -> dict:
    """"${HOST_BIND:-127.0.0.1}:${API_PORT:-8000}:80" -> published on the task's node (mode: host, any address)."""
    match = PORT.match(spec)
    if match is None:
        raise ValueError(f"unexpected port {spec!r}: use [HOST:]PUBLISHED:TARGET")
    return {"target": int(match["target"]), "published": match["published"], "protocol": "tcp", "mode": "host"}


def configs_for(name: str, volumes: list[str], configs: dict) -> tuple[list[dict], list[str]]:
    """Read-only bind mounts of project files -> Swarm configs; named volumes stay."""
    mounts, kept = [], []
    for volume in volumes:
        source, target, *mode = volume.split(":")
        if not source.startswith("."):
            kept.append(volume)
            continue
        if mode != ["ro"]:
            raise ValueError(f"{name}: only read-only project files can become Swarm configs: {volume}")
        path = ROOT / source
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        for f in files:
            key = f"{name}_{f.name}".replace(".", "_").replace("-", "_")
            configs[key] = {"file": "./" + str(f.relative_to(ROOT))}
            mounts.append({"source": key, "target": target if f == path else f"{target}/{f.name}"})
    return mounts, kept


def deploy_for(service: dict) -> dict:
    deploy = copy.deepcopy(service.get("deploy", {}))
    deploy["endpoint_mode"] = "dnsrr"
    if "replicas" not in deploy:  # singletons stay on the manager: volumes, the lb's port, images in one place
        deploy["placement"] = {"constraints": MANAGER}
    if service.get("restart") == "no":
        deploy["restart_policy"] = ONE_SHOT
    if "replicas" in deploy:
        deploy.setdefault("placement", {})["preferences"] = [{"spread": "node.id"}]
        deploy["update_config"] = ROLLING
        deploy["rollback_config"] = {"parallelism": 1, "order": "start-first"}
    return deploy


def service_for(name: str, service: dict, configs: dict) -> dict:
    if "image" not in service:
        raise ValueError(f"{name}: Swarm needs an image name (add `image:` next to `build:`)")
    out = {k: v for k, v in service.items() if k not in COMPOSE_ONLY}
    mounts, kept = configs_for(name, service.get("volumes", []), configs)
    out.pop("volumes", None)
    if kept:
        out["volumes"] = kept
    if mounts:
        out["configs"] = mounts
    if "ports" in service:
        out["ports"] = [port(p) for p in service["ports"]]
    out["deploy"] = deploy_for(service)
    return out


def stack(compose: dict) -> dict:
    configs: dict = {}
    services = {name: service_for(name, svc, configs) for name, svc in compose["services"].items()}
    return {
        "version": "3.8",
        "services": services,
        # The stack's own overlay network; attachable, so a Locust container on a node can join it.
        "networks": {"default": {"driver": "overlay", "attachable": True}},
        "volumes": compose.get("volumes", {}),
        "configs": configs,
    }


def render(compose: dict) -> str:
    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data):  # written out in full: a generated file is read, not edited
            return True

    return HEADER + yaml.dump(stack(compose), Dumper=Dumper, sort_keys=False, width=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when docker-stack.yaml is stale")
    args = parser.parse_args(argv)
    text = render(load())
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print("docker-stack.yaml is stale: run `make stack-file` and commit it", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
