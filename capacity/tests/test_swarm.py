"""The swarm backend's pure parts: cells as `docker service update` arguments, tasks and convergence from
`docker inspect` JSON (shaped as Docker 20.10 prints it), failed tasks, and the backend options of the CLI."""

import argparse
from pathlib import Path

import pytest

from capacity.backends import add_backend_arguments, backend_settings, make_backend
from capacity.backends.swarm.service import Limits, ServiceKnobs, Task, converged, failed_since
from capacity.core.cells import Cell, CellError
from capacity.core.settings import Settings

GIB = 1024**3


def service(replicas=2, nano=10**9, memory=512 * 2**20, env=("WEB_CONCURRENCY=1",), update=None) -> dict:
    spec = {"Name": "lab_api", "Mode": {"Replicated": {"Replicas": replicas}},
            "TaskTemplate": {"ContainerSpec": {"Image": "penguins-api:local", "Env": list(env)},
                             "Resources": {"Limits": {"NanoCPUs": nano, "MemoryBytes": memory}}}}
    return {"ID": "svc", "Spec": spec, **({"UpdateStatus": update} if update else {})}


def task(tid="t1", state="running", desired="running", nano=10**9, memory=512 * 2**20, exit_code=0) -> dict:
    return {"ID": tid, "Slot": 1, "NodeID": "n1", "DesiredState": desired,
            "Status": {"State": state, "Err": "" if state == "running" else "task: non-zero exit (137)",
                       "ContainerStatus": {"ContainerID": "c" * 64, "ExitCode": exit_code}},
            "Spec": {"Resources": {"Limits": {"NanoCPUs": nano, "MemoryBytes": memory}}}}


def test_a_cell_becomes_one_service_update():
    knobs = ServiceKnobs.of_cell(Cell(1, 0.25, "256M", 2, 1))
    assert knobs == ServiceKnobs(2, Limits(250_000_000, 256 * 2**20), 1)
    assert knobs.update_args() == ["--replicas", "2", "--limit-cpu", "0.25", "--limit-memory", str(256 * 2**20),
                                   "--env-add", "WEB_CONCURRENCY=1"]


def test_the_deployed_knobs_are_read_back_for_restoring():
    knobs = ServiceKnobs.of_service(service(4, 5 * 10**8, GIB, env=("A=b", "WEB_CONCURRENCY=2")))
    assert knobs == ServiceKnobs(4, Limits(5 * 10**8, GIB), 2)
    unset = ServiceKnobs.of_service(service(env=()))
    assert unset.processes is None and unset.update_args()[-2:] == ["--env-rm", "WEB_CONCURRENCY"]
    no_limits = service()
    del no_limits["Spec"]["TaskTemplate"]["Resources"]
    assert ServiceKnobs.of_service(no_limits).limits == Limits(0, 0)


def test_a_global_service_is_refused():
    data = service()
    data["Spec"]["Mode"] = {"Global": {}}
    with pytest.raises(CellError, match="not replicated"):
        ServiceKnobs.of_service(data)


def test_converged_only_when_every_meant_task_runs_with_the_new_limits():
    want = ServiceKnobs(2, Limits(25 * 10**7, 512 * 2**20), 1)
    new = [Task.of(task(f"t{i}", nano=25 * 10**7), "api") for i in range(2)]
    old = Task.of(task("t9"), "api")
    assert converged(service(update={"State": "completed"}), new, want)
    assert converged(service(), new, want)  # never updated: no UpdateStatus
    assert not converged(service(update={"State": "updating"}), new, want)
    assert not converged(service(), [new[0], old], want)  # one task still has the old limit
    assert not converged(service(), new[:1], want)  # one replica short
    starting = Task.of(task("t3", state="starting", nano=25 * 10**7), "api")
    assert not converged(service(), [new[0], starting], want)
    shut = Task.of(task("t4", state="shutdown", desired="shutdown"), "api")
    assert converged(service(), [*new, shut], want)  # tasks on their way out do not count


@pytest.mark.parametrize("state", ["rollback_completed", "rollback_started", "paused"])
def test_a_rolled_back_or_paused_update_fails_at_once(state):
    with pytest.raises(CellError, match="update of lab_api was"):
        converged(service(update={"State": state, "Message": "update rolled back due to failure"}), [],
                  ServiceKnobs(1, Limits(0, 0), None))


def test_failed_tasks_are_those_new_since_the_cell_began():
    tasks = [Task.of(task("old", state="failed", desired="shutdown"), "api"),
             Task.of(task("oom", state="failed", desired="shutdown", exit_code=137), "api"),
             Task.of(task("rej", state="rejected", desired="shutdown"), "api"),
             Task.of(task("gone", state="shutdown", desired="shutdown"), "api"),
             Task.of(task("ok"), "api")]
    failed = failed_since({"old", "ok"}, tasks)
    assert [t.id for t in failed] == ["oom", "rej"]
    assert failed[0].exit_code == 137 and failed[0].name == "api.1" and failed[0].container_id == "c" * 64


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_backend_arguments(parser)
    return parser.parse_args(list(argv))


def test_backend_options_override_the_environment(monkeypatch):
    monkeypatch.setenv("CAPACITY_STACK", "envstack")
    monkeypatch.setenv("CAPACITY_NODE_ENDPOINTS", "unix:///run/a.sock")
    assert backend_settings(_args(), Settings()).stack == "envstack"
    settings = backend_settings(_args("--backend", "swarm", "--stack", "labci", "--node-endpoint", "unix:///b.sock",
                                      "--node-endpoint", "ssh://me@hostc"), Settings())
    assert (settings.stack, settings.node_endpoints) == ("labci", "unix:///b.sock,ssh://me@hostc")
    assert make_backend("swarm", settings).name == "swarm"
    assert {make_backend(n, Settings()).name for n in ("docker", "native")} == {"docker", "native"}
    with pytest.raises(SystemExit):
        _args("--backend", "kubernetes")


@pytest.mark.parametrize("endpoint", ["hostb", "http://hostb:2375", "unix://relative.sock",
                                      "unix:///run/hostb.sock,unix:///other/hostb.sock"])
def test_a_bad_node_endpoint_fails_before_docker_is_asked(endpoint):
    with pytest.raises(CellError, match="--node-endpoint"):
        make_backend("swarm", Settings().model_copy(update={"node_endpoints": endpoint}))


@pytest.mark.parametrize("argv", [["redline", "capacity/grids/redline-smoke.toml"], ["find", "--users", "100"]])
def test_redline_and_find_refuse_the_swarm_backend_before_anything_runs(argv, capsys, monkeypatch):
    from capacity.__main__ import main

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    assert main([*argv, "--backend", "swarm"]) == 2
    assert "--backend swarm yet" in capsys.readouterr().err
