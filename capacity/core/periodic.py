"""The one periodic thread of the runner: samplers (docker stats, Swarm nodes, CFS throttling), the native
backend's watcher and redline's early stop all tick on it and stop the same way."""

from __future__ import annotations

import threading
import time


class Periodic(threading.Thread):
    """A daemon thread that calls `tick()` every `interval` s until `stop()`.

    - `paced`: a tick starts every `interval` s (its own time counted), the first at once; otherwise a full
      `interval` passes before each tick.
    - A tick that raises one of `tolerated` is a missed sample, not a crashed run; one that returns True ends
      the thread.
    - `stop()` waits up to `join_timeout` s for the thread to end.
    """

    tolerated: tuple[type[Exception], ...] = ()

    def __init__(self, name: str, interval: float, join_timeout: float, paced: bool = False):
        super().__init__(name=name, daemon=True)
        self.interval, self.join_timeout, self.paced = interval, join_timeout, paced
        self._stopped = threading.Event()

    def tick(self) -> bool | None:
        raise NotImplementedError

    def _tick(self) -> bool:
        try:
            return bool(self.tick())
        except self.tolerated:
            return False

    def run(self) -> None:
        if not self.paced:
            while not self._stopped.wait(self.interval):
                if self._tick():
                    return
            return
        while not self._stopped.is_set():
            started = time.monotonic()
            if self._tick():
                return
            self._stopped.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=self.join_timeout)
