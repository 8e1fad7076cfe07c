"""The docker backend reads the Locust master's own exit code from the compose log."""

from capacity.generators.compose_locust import master_exit_code

# The end of a real find cell's locust-compose.log (2026-11-30): the workers quit first, compose stopped the
# master while it wrote its summary and reported 143.
ENDED_NORMALLY = """\
worker-1  | [2026-11-30 08:12:12,346] 44a4cb96956b/INFO/locust.main: Shutting down (exit code 0)
worker-2  | [2026-11-30 08:12:12,379] 901f57b69805/INFO/locust.main: Shutting down (exit code 0)
master-1  | [2026-11-30 08:12:12,748] 354fb0eaeb51/INFO/locust.main: Shutting down (exit code 0)
master-1  | [2026-11-30 08:12:13,263] 354fb0eaeb51/INFO/loadtest.telemetry: summary written to /results/x (valid: False)
Aborting on container exit...
 Container capacity-lab-locust-master-1  Stopped
"""


def test_the_masters_own_exit_code_wins_over_composes():
    assert master_exit_code(ENDED_NORMALLY, 143) == 0
    failed = ENDED_NORMALLY.replace("master-1  | [2026-11-30 08:12:12,748] 354fb0eaeb51/INFO/locust.main: "
                                    "Shutting down (exit code 0)", "master-1  | ... Shutting down (exit code 1)")
    assert master_exit_code(failed, 143) == 1


def test_without_the_masters_line_compose_decides():
    assert master_exit_code("worker-1  | ... Shutting down (exit code 0)\n", 137) == 137
    assert master_exit_code("", 2) == 2
