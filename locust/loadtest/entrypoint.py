"""Container entry point: prepare the results folder as root, then run Locust as an unprivileged user.

    python -m loadtest.entrypoint locust --master ...

`./results` is bind-mounted at /results and belongs to whoever cloned the repo (root, uid 1000, any uid). A fixed
container uid cannot write there, so the image starts as root, creates the run folder (`LOCUST_CSV`/`LOCUST_HTML`
parents) and drops to the owner of /results: files land in `results/` as that user, with no variables to set.
Locust itself never runs as root. When /results belongs to root (a checkout owned by root) we run Locust as the
image's own user (10001) and hand the run folder back to root when Locust exits: root-owned results without a
root Locust; a run killed without its grace period leaves its files to uid 10001, which root can still remove.
Workers (no /results) run as 10001. Started as non-root (compose `user:`), it just runs the command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from loadtest.settings import Settings

RESULTS = Path("/results")
APP_ID = 10001  # the image's own user and group


def run_dirs(settings: Settings, results: Path = RESULTS) -> list[Path]:
    """The folders Locust writes into under `results` (its CSV prefix's and its HTML report's)."""
    paths = {Path(p).parent for p in (settings.csv, settings.html) if p}
    return sorted(p for p in paths if results in p.parents)  # a folder of its own, never /results itself


def identity(results: Path = RESULTS) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """(uid, gid) to run Locust as, and the (uid, gid) to hand the run folders to afterwards (None: no need)."""
    if not results.is_dir():
        return (APP_ID, APP_ID), None
    st = results.stat()
    if st.st_uid == 0:
        return (APP_ID, APP_ID), (0, st.st_gid)
    return (st.st_uid, st.st_gid), None


def chown_tree(top: Path, uid: int, gid: int) -> None:
    os.chown(top, uid, gid)
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)


def make_dirs(path: Path, uid: int, gid: int, results: Path = RESULTS) -> None:
    """mkdir -p below `results`, each folder it creates owned by uid:gid (a sweep's RUN_ID is run/cell)."""
    for folder in [*reversed(path.relative_to(results).parents), path.relative_to(results)]:
        target = results / folder
        if not target.exists():
            target.mkdir()
            os.chown(target, uid, gid)


def drop(uid: int, gid: int) -> None:
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    os.environ["HOME"] = "/home/app" if uid == APP_ID else "/tmp"


def supervise(argv: list[str], uid: int, gid: int, dirs: list[Path], back: tuple[int, int]) -> int:
    """Run Locust as uid:gid, pass on stop signals, then give the run folders back to `back`."""
    child = subprocess.Popen(argv, preexec_fn=lambda: drop(uid, gid))  # noqa: PLW1509 (no threads here)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
    code = child.wait()
    for d in dirs:
        chown_tree(d, *back)
    return code


def main(argv: list[str]) -> int:
    if not argv:
        argv = ["locust"]
    if os.geteuid() != 0:
        os.execvp(argv[0], argv)
    (uid, gid), back = identity()
    dirs = run_dirs(Settings())
    for d in dirs:
        make_dirs(d, uid, gid)
        chown_tree(d, uid, gid)  # a folder left by an earlier run as another uid must not stop this one
    if back is not None:
        return supervise(argv, uid, gid, dirs, back)
    drop(uid, gid)
    os.execvp(argv[0], argv)
    return 1  # not reached: execvp replaces this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
