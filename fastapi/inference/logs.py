"""key=value log lines for the service and uvicorn alike."""

from typing import Any

FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s pid=%(process)d %(message)s"


def log_config(level: str) -> dict[str, Any]:
    """A logging dictConfig; passed to uvicorn so its own lines share the format."""
    handler = {"class": "logging.StreamHandler", "formatter": "kv", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"kv": {"format": FORMAT, "datefmt": "%Y-%m-%dT%H:%M:%S%z"}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"level": level.upper()},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"level": "INFO"},
        },
    }
