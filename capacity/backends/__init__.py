"""The capacity runner's backends by name, and the options that configure them, for sweep, redline and find."""

from __future__ import annotations

import argparse

from capacity.core.settings import Settings

BACKENDS = ("docker", "native", "swarm")


def add_backend_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=BACKENDS, default="docker",
                   help="docker: the Compose stack here; native: API processes here; swarm: a deployed Swarm stack")
    p.add_argument("--stack", help="swarm backend: the deployed stack's name (default CAPACITY_STACK, else lab)")
    p.add_argument("--node-endpoint", action="append", default=[], metavar="URL",
                   help="swarm backend: the Docker endpoint of a worker node (unix:///..., ssh://user@host), to "
                        "sample its tasks there; one per node (default CAPACITY_NODE_ENDPOINTS)")


def backend_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    """--stack and --node-endpoint over the environment's CAPACITY_STACK / CAPACITY_NODE_ENDPOINTS."""
    update = {}
    if getattr(args, "stack", None):
        update["stack"] = args.stack
    if getattr(args, "node_endpoint", None):
        update["node_endpoints"] = ",".join(args.node_endpoint)
    return settings.model_copy(update=update) if update else settings


def make_backend(name: str, settings: Settings):
    if name == "native":
        from capacity.backends.native.backend import NativeBackend

        return NativeBackend(settings)
    if name == "swarm":
        from capacity.backends.swarm.backend import SwarmBackend

        return SwarmBackend(settings)
    from capacity.backends.docker.backend import DockerBackend

    return DockerBackend(settings)
