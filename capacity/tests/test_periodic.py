"""The one periodic thread of the samplers and watchers: pacing, missed ticks, ending itself, stopping."""

import time

from capacity.core.periodic import Periodic


class Counter(Periodic):
    tolerated = (OSError,)

    def __init__(self, paced: bool, interval: float = 0.05, fail_at: int | None = None, end_at: int | None = None):
        super().__init__("test-periodic", interval, join_timeout=5, paced=paced)
        self.ticks, self.fail_at, self.end_at = [], fail_at, end_at

    def tick(self):
        self.ticks.append(time.monotonic())
        if len(self.ticks) == self.fail_at:
            raise OSError("a missed sample")
        return len(self.ticks) == self.end_at


def test_paced_ticks_at_once_the_other_waits_an_interval_first():
    for paced in (True, False):
        t0 = time.monotonic()
        c = Counter(paced, interval=1.0)
        c.start()
        time.sleep(1.5)
        c.stop()
        assert not c.is_alive() and c.ticks
        first = c.ticks[0] - t0
        assert first < 0.9 if paced else first >= 1.0


def test_a_tolerated_error_is_a_missed_tick_and_true_ends_the_thread():
    c = Counter(paced=True, fail_at=2, end_at=4)
    c.start()
    c.join(timeout=5)
    assert not c.is_alive() and len(c.ticks) == 4
    c.stop()  # stopping an ended thread is harmless
