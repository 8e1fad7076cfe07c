"""The project's locustfile, with each simulated user bound to one API replica in turn (native backend).

Without Docker there is no nginx here: the users themselves are spread round-robin over the replicas'
URLs (CAPACITY_TARGETS, comma-separated). Every user keeps one keep-alive connection and the same think
time, so each replica gets an equal share of the users and of the load, and no proxy shares the CPU.
Everything else (tasks, checks, shape, generator telemetry and summary) is locust/locustfile.py as is.
"""

import itertools

import locustfile as project  # locust/ is on PYTHONPATH; importing it also wires the telemetry listener

from capacity.core.settings import Settings

TARGETS = Settings().target_list or [project.settings.host]
_turn = itertools.count()


class RoundRobinUser(project.PenguinUser):
    def __init__(self, environment):
        self.host = TARGETS[next(_turn) % len(TARGETS)]  # before FastHttpUser builds its client
        super().__init__(environment)


if hasattr(project, "RampShape"):
    RampShape = project.RampShape
