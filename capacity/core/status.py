"""The one verdict of a cell, a ramp step or a find measurement (written as "pass" / "fail" / "invalid").

- pass: the SLO held, and the measurement describes the API.
- fail: the API broke the SLO (errors, latency, OOM kills, restarts, users not reached, never ready, behind).
- invalid: the measurement describes the generator or the host, not the API: neither an answer nor a failure.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INVALID = "invalid"


PASS, FAIL, INVALID = Status.PASS, Status.FAIL, Status.INVALID
