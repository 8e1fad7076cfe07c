"""Container healthcheck: the master's worker port answers (from the master itself, or from a worker).

A worker cannot work without its master, and the master always binds this port, with or without web UI.
"""

from __future__ import annotations

import socket
import sys

from loadtest.settings import Settings


def main() -> int:
    settings = Settings()
    host = settings.master_node_host if settings.mode_worker else "127.0.0.1"
    try:
        socket.create_connection((host, settings.master_node_port), timeout=3).close()
    except OSError as exc:
        print(f"master {host}:{settings.master_node_port} unreachable: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
