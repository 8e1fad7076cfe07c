"""Wait for an HTTP endpoint to answer, bounded in time, failing early when the process behind it dies."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request


def _status(url: str, timeout: float) -> tuple[int | None, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except OSError as exc:
        return None, str(exc)


def answers(url: str, ok=(200,), timeout: float = 2.0) -> bool:
    """One probe: does `url` answer now with a status in `ok`?"""
    return _status(url, timeout)[0] in ok


def wait_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None, ok=(200,),
              interval: float = 0.2, times: int = 1, request_timeout: float = 2.0) -> None:
    """Poll `url` until it answers with a status in `ok` `times` times in a row.

    Raises RuntimeError when `proc` exits first, TimeoutError after `timeout` seconds.
    """
    deadline = time.monotonic() + timeout
    last, streak = "no answer", 0
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode} before {url} answered")
        status, last = _status(url, request_timeout)
        streak = streak + 1 if status in ok else 0
        if streak >= times:
            return
        time.sleep(interval)
    raise TimeoutError(f"{url} not ready after {timeout:g}s: {last}")
