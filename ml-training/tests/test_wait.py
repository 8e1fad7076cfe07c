import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from trainer.wait import PROBE_PATH, MlflowUnavailableError, wait_for_mlflow


class FakeClock:
    """Monotonic time that only advances when the code under test sleeps."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _serve(statuses: list[int]) -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server answering each request with the next status (the last one repeats)."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
            body = json.dumps({"experiments": []} if status == 200 else {"error": "nope"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def flaky_server():
    yield from _serve([503, 502, 200])


@pytest.fixture
def forbidding_server():
    yield from _serve([403])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_retries_with_exponential_backoff_until_a_real_api_call_succeeds(flaky_server):
    url, seen = flaky_server
    clock = FakeClock()
    assert wait_for_mlflow(url, 30, sleep=clock.sleep, clock=clock) == 3
    assert clock.sleeps == [0.5, 1.0]
    assert seen == [PROBE_PATH] * 3


def test_gives_up_after_the_budget_with_a_one_line_reason():
    clock = FakeClock()
    with pytest.raises(MlflowUnavailableError) as info:
        wait_for_mlflow(f"http://127.0.0.1:{_closed_port()}", 10, sleep=clock.sleep, clock=clock)
    message = str(info.value)
    assert "did not answer within 10s" in message and "refused" in message.lower()
    assert "\n" not in message
    assert sum(clock.sleeps) == pytest.approx(10)
    assert clock.sleeps[:4] == [0.5, 1.0, 2.0, 4.0]


def test_a_forbidden_host_fails_fast(forbidding_server):
    url, seen = forbidding_server
    clock = FakeClock()
    with pytest.raises(MlflowUnavailableError, match="HTTP 403.*allowed-hosts"):
        wait_for_mlflow(url, 60, sleep=clock.sleep, clock=clock)
    assert len(seen) == 1 and clock.sleeps == []


def test_non_http_tracking_uris_need_no_wait():
    assert wait_for_mlflow("sqlite:///mlflow.db", 0) == 0
