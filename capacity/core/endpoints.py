"""Docker endpoints for Locust workers on other hosts, as DOCKER_HOST spells them, checked before anything runs.

    unix:///run/docker.sock        a local socket (e.g. an engine forwarded from elsewhere)  -> name: "docker"
    ssh://[user@]host[:port]       Docker over SSH (what `docker context create --docker host=ssh://...` uses)
    tcp://host[:port]              a daemon listening on TCP

`npipe://` (Windows) and `fd://` (the daemon's own socket activation) are not client endpoints here. Every
endpoint has a name: the host of an ssh/tcp URL, the socket's file name for unix
(unix:///run/offline-docker/hostb.sock -> hostb). The name becomes the workers' container hostname, so the
master's roster (loadtest.workers) says on which host each worker ran.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit

SCHEMES = ("unix", "ssh", "tcp")
_NOT_IN_HOSTNAME = re.compile(r"[^A-Za-z0-9.-]+")


@dataclass(frozen=True)
class Endpoint:
    url: str
    name: str  # container hostname of its workers: letters, digits, dots and dashes


def _name(raw: str, text: str) -> str:
    name = _NOT_IN_HOSTNAME.sub("-", raw).strip(".-")[:63]
    if not name:
        raise ValueError(f"cannot name a host after {text!r}")
    return name


def parse_endpoint(text: str) -> Endpoint:
    """'ssh://me@hostb' -> Endpoint('ssh://me@hostb', 'hostb'); anything Docker would not take raises ValueError."""
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme not in SCHEMES or "://" not in text:
        raise ValueError(f"must start with unix://, ssh:// or tcp:// (as DOCKER_HOST), got {text!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"no ?query or #fragment in a Docker endpoint, got {text!r}")
    if parts.scheme == "unix":
        if parts.netloc or not parts.path.startswith("/") or parts.path.endswith("/"):
            raise ValueError(f"must be unix:///absolute/path/to/docker.sock (three slashes), got {text!r}")
        return Endpoint(text, _name(PurePosixPath(parts.path).stem, text))
    try:
        port = parts.port  # a bad port raises here
    except ValueError:
        raise ValueError(f"port must be a number from 1 to 65535, got {text!r}") from None
    if not parts.hostname or port == 0:
        raise ValueError(f"must be {parts.scheme}://{'[user@]' if parts.scheme == 'ssh' else ''}host[:port], "
                         f"got {text!r}")
    if parts.path not in ("", "/") or (parts.scheme == "tcp" and parts.username):
        raise ValueError(f"must be {parts.scheme}://{'[user@]' if parts.scheme == 'ssh' else ''}host[:port] "
                         f"with nothing after the port, got {text!r}")
    if parts.password:
        raise ValueError(f"no password in an ssh endpoint (use a key or ssh-agent), got {text!r}")
    return Endpoint(text, _name(parts.hostname, text))


def check_endpoint(text: str) -> str:
    """Pydantic validator: the URL as given, if it parses."""
    parse_endpoint(text)
    return text.strip()


def parse_endpoints(texts: list[str]) -> list[Endpoint]:
    """Each endpoint once; two endpoints may not share a name (their workers would be indistinguishable)."""
    endpoints = [parse_endpoint(t) for t in texts]
    seen: dict[str, str] = {}
    for endpoint in endpoints:
        if endpoint.name in seen:
            raise ValueError(f"{seen[endpoint.name]!r} and {endpoint.url!r} both name their workers "
                             f"{endpoint.name!r}; give each endpoint its own host")
        seen[endpoint.name] = endpoint.url
    return endpoints
