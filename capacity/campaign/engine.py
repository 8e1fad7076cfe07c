"""Taking turns on a Docker engine shared with other users: `--lock PATH` holds an flock per measurement.

While the lock is held the stack is ours: it is started if it was down, each measurement runs, the default
api + lb are restored (backend.close()), and the stack is taken down again if it was down when our turn began.
Between two measurements the lock is free, so other users' stack tests interleave with a long campaign.
Without a lock (or with the native backend) a turn is just the measurement. `Turns` prepares the backend
(builds the Locust image, checks the stack) inside the first turn, so a run waits for the lock only to measure.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from capacity.backends.base import Backend, SharedStack


@contextmanager
def turn(lock: Path | None, stack: SharedStack | None) -> Iterator[None]:
    """One measurement holding the lock; without a lock or a shared stack (Backend.shared_stack), just that."""
    if lock is None or stack is None:
        yield
        return
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        was_up = stack.stack_running()
        try:
            if not was_up:
                stack.stack_up()
            yield
        finally:
            try:
                stack.close()
                if not was_up:
                    stack.stack_down()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class Turns:
    """The turns of one run; `prepare` runs once, in the first turn that measures something."""

    def __init__(self, lock: Path | None, backend: Backend, prepare: Callable[[], None]):
        self.lock, self.backend, self._prepare, self.prepared = lock, backend, prepare, False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with turn(self.lock, self.backend.shared_stack() if self.lock else None):
            if not self.prepared:
                self._prepare()
                self.prepared = True
            yield
