"""`python -m inference`: the production server (uvicorn, uvloop, httptools, no access log by default)."""

import os
import tempfile
from pathlib import Path

import uvicorn

from .logs import log_config
from .settings import Settings


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
    uvicorn.run(
        "inference.main:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.web_concurrency,
        loop="uvloop",
        http="httptools",
        access_log=settings.access_log,
        log_config=log_config(settings.log_level),
        log_level=settings.log_level,
        proxy_headers=True,
        server_header=False,
        timeout_keep_alive=75,
    )


if __name__ == "__main__":
    main()
