"""Image size of the compose-built api image against its Python base, where a Docker engine is present."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass

from bench.variants import ROOT

BASE_IMAGE = "python:3.11-slim-bookworm"


@dataclass(frozen=True)
class ImageSize:
    image: str
    size_mb: float | None
    base_mb: float | None
    note: str = ""

    @property
    def added_mb(self) -> float | None:
        if self.size_mb is None or self.base_mb is None:
            return None
        return self.size_mb - self.base_mb


def _docker(*args: str, timeout: float = 30) -> str | None:
    try:
        out = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def compose_api_image() -> str | None:
    """The image name compose gives the `api` service (its own interpolation of API_IMAGE and defaults)."""
    config = _docker("compose", "config", "--format", "json")
    if config is None:
        return None
    try:
        return json.loads(config)["services"]["api"]["image"]
    except (ValueError, KeyError):
        return None


def _size_mb(image: str) -> float | None:
    out = _docker("image", "inspect", "--format", "{{.Size}}", image)
    return int(out.strip()) / 1e6 if out and out.strip().isdigit() else None


def measure(image: str | None = None) -> ImageSize:
    if shutil.which("docker") is None or _docker("info", "--format", "{{.ServerVersion}}") is None:
        return ImageSize(image or "api", None, None, "n/a: no Docker engine")
    image = image or compose_api_image()
    if image is None:
        return ImageSize("api", None, None, "n/a: no api service in `docker compose config`")
    size, base = _size_mb(image), _size_mb(BASE_IMAGE)
    if size is None:
        return ImageSize(image, None, base, f"n/a: {image} not built (`make up` builds it)")
    if base is None:
        return ImageSize(image, size, None, f"n/a: base {BASE_IMAGE} not present")
    return ImageSize(image, size, base)
