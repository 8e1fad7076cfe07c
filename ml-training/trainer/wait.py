"""Wait for MLflow with a bounded exponential backoff, probing a real REST API call."""

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable

log = logging.getLogger(__name__)

PROBE_PATH = "/api/2.0/mlflow/experiments/search?max_results=1"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class MlflowUnavailableError(RuntimeError):
    """MLflow did not answer a real API call within the retry budget (or refused it for good)."""


class _Permanent(Exception):
    """A refusal that retrying will not fix (e.g. 403 from --allowed-hosts)."""


def wait_for_mlflow(
    tracking_uri: str,
    timeout_s: float,
    *,
    first_delay_s: float = 0.5,
    max_delay_s: float = 8.0,
    request_timeout_s: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Return the number of attempts once MLflow answers; raise MlflowUnavailableError otherwise."""
    if not tracking_uri.startswith(("http://", "https://")):
        return 0  # a local file or database store: nothing to wait for
    url = tracking_uri.rstrip("/") + PROBE_PATH
    deadline = clock() + timeout_s
    delay, attempt = first_delay_s, 0
    while True:
        attempt += 1
        remaining = deadline - clock()
        try:
            _probe(url, max(0.5, min(request_timeout_s, remaining)))
            return attempt
        except _Permanent as exc:
            raise MlflowUnavailableError(f"MLflow at {tracking_uri} refused the API call: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            reason = _describe(exc)
        remaining = deadline - clock()
        if remaining <= 0:
            raise MlflowUnavailableError(
                f"MLflow at {tracking_uri} did not answer within {timeout_s:g}s "
                f"({attempt} attempts); last error: {reason}"
            )
        log.info("MLflow not ready (%s); retrying in %.1fs", reason, min(delay, remaining))
        sleep(min(delay, remaining))
        delay = min(delay * 2, max_delay_s)


def _probe(url: str, timeout_s: float) -> None:
    """One search-experiments call; returns only on a 200 with an MLflow JSON body."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        if exc.code in RETRYABLE_STATUS:
            raise
        hint = " (is this host in the server's --allowed-hosts?)" if exc.code == 403 else ""
        raise _Permanent(f"HTTP {exc.code} {_first_line(exc.read())}{hint}") from None
    except json.JSONDecodeError:
        raise _Permanent("the answer is not MLflow JSON (wrong MLFLOW_TRACKING_URI?)") from None
    if not isinstance(body, dict):
        raise _Permanent("the answer is not an MLflow search-experiments response")


def _describe(exc: OSError | http.client.HTTPException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    return str(exc) or type(exc).__name__


def _first_line(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    return text.splitlines()[0][:200] if text else ""
