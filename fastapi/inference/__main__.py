"""`python -m inference`: the production server (uvicorn, uvloop, httptools, no access log by default)."""

import os
import sys
import tempfile
from pathlib import Path

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from .logs import log_config
from .server import Server
from .settings import Settings

APP = "inference.main:create_app"


def prepare_metrics_dir(settings: Settings, scratch: str) -> Settings:
    """Several processes: a folder where they share their metrics (METRICS_DIR, else `scratch`), passed to
    them by the environment and emptied of an earlier run's numbers."""
    if settings.web_concurrency == 1 and not settings.metrics_dir:
        return settings
    folder = Path(settings.metrics_dir or scratch)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.msgpack"):
        stale.unlink()
    os.environ["METRICS_DIR"] = str(folder)
    return settings.model_copy(update={"metrics_dir": str(folder)})


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="inference-metrics-") as scratch:
        serve(prepare_metrics_dir(Settings(), scratch))


def serve(settings: Settings) -> None:
    options = dict(
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        loop="uvloop",
        http="httptools",
        access_log=settings.access_log,
        log_config=log_config(settings.log_level),
        log_level=settings.log_level,
        proxy_headers=True,
        server_header=False,
        timeout_keep_alive=75,
    )
    if settings.web_concurrency > 1:  # uvicorn's supervisor (it pings every worker every 0.5 s) and its workers
        uvicorn.run(APP, workers=settings.web_concurrency, **options)
        return
    # One process: uvicorn.run without the 10 wake-ups a second of its main loop (server.py).
    server = Server(uvicorn.Config(APP, **options))
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)  # as uvicorn.run does


if __name__ == "__main__":
    main()
