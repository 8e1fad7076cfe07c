"""`python -m inference`: the production server (uvicorn, uvloop, httptools, no access log by default)."""

import uvicorn

from .logs import log_config
from .settings import Settings


def main() -> None:
    settings = Settings()
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
