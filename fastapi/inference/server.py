"""uvicorn's Server, waking once a second when idle instead of ten times.

uvicorn's main loop (uvicorn 0.54 `Server.main_loop`) sleeps 0.1 s at a time to refresh the Date header once a
second and to see whether a signal asked it to stop: 600 wake-ups a minute in a replica that serves nothing.
This one sleeps until just after the next second begins, which is when the Date header changes (so it is
never a second stale, where uvicorn's drifting tick can be), and a stop signal wakes it at once, so a graceful
shutdown starts as soon as uvicorn's own would. Everything else is uvicorn's: startup, on_tick, shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import FrameType

import uvicorn

# Past the second boundary: a timer firing a little early must not format the second that is ending.
AFTER_SECOND_S = 0.002


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        # on_tick(0) refreshes the Date header (uvicorn does it when counter % 10 == 0), then says whether to stop
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0 - time.time() % 1.0 + AFTER_SECOND_S)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)  # sets should_exit (force_exit on a second SIGINT)
        if self._loop is not None and self._wake is not None:
            # a signal handler runs between two callbacks of the loop: wake it through its self-pipe
            self._loop.call_soon_threadsafe(self._wake.set)
