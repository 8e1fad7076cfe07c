"""Turns on a shared engine: the lock is held for the measurement only and the stack is left as it was found."""

import fcntl

import pytest

from capacity.campaign.engine import turn


class Stack:
    """Stands in for the docker backend's stack methods (the real ones run docker compose)."""

    def __init__(self, up: bool):
        self.up, self.calls = up, []

    def stack_running(self):
        return self.up

    def stack_up(self):
        self.calls.append("up")

    def stack_down(self):
        self.calls.append("down")

    def close(self):
        self.calls.append("close")


def _held(path) -> bool:
    with open(path, "a") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(other, fcntl.LOCK_UN)
        return False


@pytest.mark.parametrize(("was_up", "calls"), [(False, ["up", "measure", "close", "down"]),
                                               (True, ["measure", "close"])])
def test_a_turn_leaves_the_stack_as_found(tmp_path, was_up, calls):
    lock, stack = tmp_path / "engine.lock", Stack(was_up)
    with turn(lock, stack):
        assert _held(lock)
        stack.calls.append("measure")
    assert stack.calls == calls and not _held(lock)


def test_no_lock_or_no_stack_is_just_the_measurement(tmp_path):
    stack = Stack(False)
    with turn(None, stack):
        pass
    with turn(tmp_path / "engine.lock", None):  # a backend with no shared stack (Backend.shared_stack)
        pass
    assert stack.calls == []


def test_the_lock_is_released_when_the_measurement_fails(tmp_path):
    lock, stack = tmp_path / "engine.lock", Stack(True)
    with pytest.raises(KeyboardInterrupt), turn(lock, stack):
        raise KeyboardInterrupt
    assert stack.calls == ["close"] and not _held(lock)
