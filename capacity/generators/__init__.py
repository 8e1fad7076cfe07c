"""The load generators the capacity runner drives, behind one contract (base.LoadGenerator).

- `locust` (the default, the UI and the multi-host tool): docker-compose-locust.yaml or a local process.
- `wrk` (wrk/, a compiled closed-loop generator emulating our Locust users, ~1/3 of Locust's CPU per request):
  docker-compose-wrk.yaml or a local `python -m wrkload` process.

Both write Locust's files (`locust_stats.csv`, `_stats_history.csv`, `_failures.csv`, `_generator.csv/.json`)
into the cell folder, so everything after the run (metrics, steps, validity, reports) reads one format.
"""

GENERATORS = ("locust", "wrk")


def compose_generator(name: str, settings, root, results):
    """The generator in a container on the stack's network (docker and swarm backends)."""
    from capacity.generators.compose_locust import ComposeLocust
    from capacity.generators.compose_wrk import ComposeWrk

    return ComposeWrk(settings, root, results) if name == "wrk" else ComposeLocust(settings, root, results)


def local_generator(name: str):
    """The generator as a local process (native backend)."""
    from capacity.generators.local import LocalLocust, LocalWrk

    return LocalWrk() if name == "wrk" else LocalLocust()
