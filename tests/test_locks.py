"""Every image installs exactly what the tests ran: its requirements.lock pins every transitive version, agrees
with its requirements.txt and with requirements-dev.lock, and the test virtualenv is requirements-dev.lock."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ("fastapi", "ml-training", "mlflow", "locust")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """name -> version of every requirement line; a line that is not an exact pin fails the test."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        match = PIN.match(line)
        assert match, f"{path.relative_to(ROOT)}: not an exact pin: {line!r}"
        found[canonical(match[1])] = match[2]
    return found


DEV_LOCK = pins(ROOT / "requirements-dev.lock")


@pytest.mark.parametrize("image", IMAGES)
def test_image_lock_covers_its_pins_and_matches_the_tested_versions(image):
    direct, locked = pins(ROOT / image / "requirements.txt"), pins(ROOT / image / "requirements.lock")
    assert {name: locked.get(name) for name in direct} == direct, "requirements.lock disagrees: run `make lock`"
    assert {name: DEV_LOCK.get(name) for name in locked} == locked, "not what the tests ran: run `make lock`"


@pytest.mark.parametrize("image", IMAGES)
def test_image_installs_with_its_lock(image):
    dockerfile = (ROOT / image / "Dockerfile").read_text()
    assert "COPY requirements.txt requirements.lock /tmp/" in dockerfile
    assert "--requirement /tmp/requirements.txt --constraint /tmp/requirements.lock" in dockerfile
    assert "!requirements.lock" in (ROOT / image / ".dockerignore").read_text().splitlines()


def test_the_test_virtualenv_is_the_dev_lock():
    installed = {name: _installed(name) for name in DEV_LOCK}
    assert installed == DEV_LOCK, "the virtualenv drifted from requirements-dev.lock: run `make install`"


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
