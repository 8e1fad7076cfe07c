"""A throwaway PostgreSQL 15 cluster from Debian's binaries, run as the `postgres` user (it refuses root)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .process import Managed, free_port, spawn

BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
USER, PASSWORD, DB = "mlflow", "mlflow-test", "mlflow"


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


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _chown_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        shutil.chown(path, pw.pw_uid, pw.pw_gid)


def start_postgres() -> Postgres:
    if not (BIN / "initdb").exists():
        raise RuntimeError(f"PostgreSQL binaries not found in {BIN}: apt-get install postgresql")
    # Its own folder under /tmp: pytest's tmp folders are private to root, and postgres must reach its data.
    workdir = Path(tempfile.mkdtemp(prefix="lab-postgres-"))
    _chown_to_postgres(workdir)
    data, pwfile = workdir / "data", workdir / "pw"
    pwfile.write_text(PASSWORD)
    _chown_to_postgres(pwfile)
    subprocess.run(
        _as_postgres([str(BIN / "initdb"), "-D", str(data), "-U", USER, "--pwfile", str(pwfile),
                      "-A", "scram-sha-256", "--no-sync", "-E", "UTF8"]),
        check=True, capture_output=True,
    )
    port = free_port()
    managed = spawn(
        _as_postgres([str(BIN / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
                      "-k", str(workdir), "-c", "fsync=off", "-c", "full_page_writes=off"]),
        workdir / "postgres.log",
    )
    _wait_ready(port, workdir, managed)
    subprocess.run(
        _as_postgres([str(BIN / "createdb"), "-h", str(workdir), "-p", str(port), "-U", USER, DB]),
        check=True, capture_output=True, env={**os.environ, "PGPASSWORD": PASSWORD},
    )
    return Postgres(managed, port, workdir)


def _wait_ready(port: int, sockdir: Path, managed: Managed, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if managed.proc.poll() is not None:
            raise RuntimeError(f"postgres exited early:\n{managed.log_tail()}")
        ok = subprocess.run([str(BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True)
        if ok.returncode == 0:
            return
        time.sleep(0.2)
    raise TimeoutError(f"postgres not ready on {port}:\n{managed.log_tail()}")
