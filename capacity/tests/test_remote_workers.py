"""Worker endpoints on other Docker hosts: what parses, what is refused before anything starts, and how the
workers' hosts are counted from the master's roster or log. The run itself is tests/stack/test_capacity_multihost.py.
"""

import json
from pathlib import Path

import pytest

from capacity.__main__ import main
from capacity.core.cells import CellError
from capacity.core.endpoints import parse_endpoint, parse_endpoints
from capacity.core.grid import GridError, parse_grid, with_worker_endpoints
from capacity.generators.remote_workers import RemoteWorkers, check_master_address, generator_hosts

GRID = {"grid": {"cpus": [1.0], "memory": ["512M"], "replicas": [1]}, "load": {"users": 10, "spawn_rate": 5}}
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("url", "name"), [
    ("unix:///run/offline-docker/hostb.sock", "hostb"),
    ("unix:///var/run/docker.sock", "docker"),
    ("ssh://me@hostb", "hostb"),
    ("ssh://me@hostc.example.org:2222", "hostc.example.org"),
    ("ssh://192.0.2.11", "192.0.2.11"),
    ("tcp://10.0.0.5:2376", "10.0.0.5"),
    ("  ssh://me@hostb  ", "hostb"),
])
def test_endpoints_docker_accepts_parse_with_a_host_name(url, name):
    endpoint = parse_endpoint(url)
    assert (endpoint.url, endpoint.name) == (url.strip(), name)


@pytest.mark.parametrize(("url", "message"), [
    ("hostb", "must start with unix://, ssh:// or tcp://"),
    ("http://hostb:2375", "must start with unix://"),
    ("npipe:////./pipe/docker_engine", "must start with unix://"),
    ("ssh:hostb", "must start with unix://"),
    ("unix://run/docker.sock", "three slashes"),
    ("unix:///run/", "three slashes"),
    ("ssh://", "must be ssh://[user@]host[:port]"),
    ("ssh://me@hostb:99999", "port must be a number"),
    ("ssh://me@hostb:ssh", "port must be a number"),
    ("ssh://me@hostb/home", "nothing after the port"),
    ("ssh://me:secret@hostb", "no password"),
    ("tcp://me@hostb:2375", "nothing after the port"),
    ("ssh://me@hostb?x=1", "no ?query"),
])
def test_bad_endpoints_are_refused_with_the_reason(url, message):
    with pytest.raises(ValueError, match=message.replace("?", r"\?").replace("[", r"\[").replace("]", r"\]")):
        parse_endpoint(url)


def test_two_endpoints_with_one_name_are_refused():
    with pytest.raises(ValueError, match="both name their workers 'hostb'"):
        parse_endpoints(["ssh://a@hostb", "unix:///run/hostb.sock"])


def test_grid_generators_table_and_its_errors_name_the_field():
    grid = parse_grid({**GRID, "generators": {"endpoints": ["ssh://me@hostb"], "workers_per_endpoint": 2}})
    assert grid.generators.endpoints == ["ssh://me@hostb"] and grid.generators.workers_per_endpoint == 2
    assert parse_grid(GRID).generators.endpoints == []  # optional: old grids and run.json files stay valid
    with pytest.raises(GridError, match=r"generators.endpoints\[1\]: must start with"):
        parse_grid({**GRID, "generators": {"endpoints": ["ssh://me@hostb", "hostc"]}})
    with pytest.raises(GridError, match="generators.workers_per_endpoint: must be >= 1"):
        parse_grid({**GRID, "generators": {"workers_per_endpoint": 0}})
    with pytest.raises(GridError, match="generators.endpoint: unknown field"):
        parse_grid({**GRID, "generators": {"endpoint": ["ssh://me@hostb"]}})


def test_the_flag_replaces_the_grids_endpoints_and_needs_the_docker_backend():
    grid = parse_grid({**GRID, "generators": {"endpoints": ["ssh://me@hostb"], "workers_per_endpoint": 3}})
    flagged = with_worker_endpoints(grid, ["ssh://me@hostc", "ssh://me@hostd"], "docker")
    assert flagged.generators.endpoints == ["ssh://me@hostc", "ssh://me@hostd"]
    assert flagged.generators.workers_per_endpoint == 3
    assert with_worker_endpoints(grid, None, "docker") == grid
    with pytest.raises(GridError, match="both name their workers"):
        with_worker_endpoints(grid, ["ssh://a@hostc", "ssh://b@hostc"], "docker")
    with pytest.raises(GridError, match="need --backend docker"):
        with_worker_endpoints(grid, None, "native")


def test_a_bad_flag_stops_the_cli_before_anything_runs(capsys, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", str(ROOT / "capacity/grids/smoke.toml"), "--worker-endpoint", "hostb", "--out", str(out)])
    assert exit_.value.code == 2 and "--worker-endpoint: must start with unix://" in capsys.readouterr().err
    code = main(["find", "--users", "10", "--worker-endpoint", "ssh://me@hostb", "--backend", "native",
                 "--out", str(out)])
    assert code == 2 and "need --backend docker" in capsys.readouterr().err
    assert not out.exists()


def test_redline_and_find_refuse_a_loopback_master_before_their_first_turn(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HOST_BIND", "127.0.0.1")
    out = tmp_path / "run"
    for args in (["find", "--users", "10"], ["redline", str(ROOT / "capacity/grids/redline-smoke.toml")]):
        code = main([*args, "--worker-endpoint", "ssh://me@hostb", "--lock", str(tmp_path / "lock"), "--out", str(out)])
        assert code == 2 and "HOST_BIND, which is 127.0.0.1: they cannot reach it" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "lock").exists()


@pytest.mark.parametrize("bind", ["127.0.0.1", "127.0.1.1", "::1", "localhost", "0.0.0.0", "::"])
def test_remote_workers_cannot_join_a_master_on_loopback_or_every_address(bind):
    with pytest.raises(CellError, match=f"HOST_BIND, which is {bind}"):
        check_master_address(bind)


def test_a_routable_host_bind_is_fine():
    check_master_address("10.200.0.1")
    check_master_address("hostA.example.org")


READY = ("master-1  | [2026-11-30 08:00:01,000] m/INFO/locust.runners: "
         "{} (index {}) reported as ready. {} workers connected.")
LOG = "\n".join(READY.format(f"{host}_{c * 32}", i, i + 1)
                for i, (host, c) in enumerate([("0123456789ab", "a"), ("hostb", "b"), ("hostb", "c"), ("hostc", "d")]))


def test_generator_hosts_from_the_masters_log_local_ones_by_container_id(tmp_path):
    assert generator_hosts(tmp_path, LOG, ["hostb", "hostc"]) == {"hostb": 2, "hostc": 1, "local": 1}
    assert generator_hosts(tmp_path, LOG, []) == {"local": 4}
    assert generator_hosts(tmp_path, "", []) == {}


def test_generator_hosts_prefer_the_masters_roster(tmp_path):
    roster = {"workers": [{"host": "hostb", "state": "running"}, {"host": "hostc", "state": "gone"},
                          {"host": "9f8e7d6c5b4a", "state": "running"}], "hosts": [], "lost": 1}
    (tmp_path / "locust_workers.json").write_text(json.dumps(roster))
    assert generator_hosts(tmp_path, "", ["hostb", "hostc"]) == {"hostb": 1, "hostc": 1, "local": 1}


def test_every_endpoints_workers_joined_needs_no_docker():
    workers = RemoteWorkers(parse_endpoints(["ssh://me@hostb"]), 2, "10.200.0.1", ROOT)
    workers.check_joined(LOG)  # hostb: 2 of 2 in the log; a shortfall would ask hostb for its workers' log
    assert workers.count == 2
    assert workers.master_env(1, 8000) == {"LOCUST_HOST": "http://10.200.0.1:8000", "LOCUST_EXPECT_WORKERS": "3"}


def test_an_endpoint_whose_workers_did_not_join_is_named():
    workers = RemoteWorkers(parse_endpoints(["ssh://me@hostb", "unix:///nonexistent/hostd.sock"]), 2, "10.200.0.1",
                            ROOT)
    with pytest.raises(CellError) as error:
        workers.check_joined(LOG)  # hostb: 2 of 2; hostd: none (and no engine to ask for its workers' log)
    message = str(error.value)
    assert "did not join the master at 10.200.0.1:" in message
    assert "hostd (unix:///nonexistent/hostd.sock): 0 of 2 joined" in message and "hostb (" not in message
