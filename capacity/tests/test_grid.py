"""Grid files: the shipped ones load; every bad value is refused with the field named."""

from pathlib import Path

import pytest

from capacity.core.grid import GridError, check_machine, load_grid, memory_bytes, parse_grid

GRIDS = Path(__file__).resolve().parents[1] / "grids"


def minimal(**tables) -> dict:
    data = {"grid": {"cpus": [1.0], "memory": ["512M"], "replicas": [1]}, "load": {"users": 10, "spawn_rate": 5}}
    for table, values in tables.items():
        data[table] = {**data.get(table, {}), **values}
    return data


@pytest.mark.parametrize("name", ["default", "smoke", "assignment"])
def test_shipped_grids_load(name):
    grid = load_grid(GRIDS / f"{name}.toml")
    assert grid.name == name


def test_default_grid_fits_this_kind_of_machine():
    grid = load_grid(GRIDS / "default.toml")
    check_machine(grid, 2)
    assert grid.load.users <= 3000 and grid.slo.p95_ms == 500


def test_assignment_grid_is_the_10k_ramp():
    load = load_grid(GRIDS / "assignment.toml").load
    assert (load.users, load.shape, load.step_users) == (10_000, "ramp", 500)
    assert load.run_seconds == 20 * 30 + 180


@pytest.mark.parametrize(("tables", "message"), [
    ({"grid": {"cpus": [1.0, 0.5, -1]}}, "grid.cpus[2]: must be > 0, got -1"),
    ({"grid": {"memory": ["512M", "lots"]}}, "grid.memory[1]: must look like 512M"),
    ({"grid": {"memory": ["1K"]}}, "grid.memory[0]: must be at least 6M"),
    ({"grid": {"replicas": [0]}}, "grid.replicas[0]: must be >= 1, got 0"),
    ({"grid": {"replicas": [1, 1]}}, "replicas: duplicate values"),
    ({"grid": {"cpus": []}}, "grid.cpus: list should have at least 1 item"),
    ({"grid": {"cpu": [1]}}, "grid.cpu: unknown field"),
    ({"load": {"users": 0}}, "load.users: must be >= 1, got 0"),
    ({"load": {"duration": "ten"}}, "load.duration: must be seconds or like '90s'"),
    ({"load": {"shape": "spiky"}}, "load.shape: input should be 'none' or 'ramp'"),
    ({"load": {"wait_min": 3, "wait_max": 1}}, "wait_max must be >= wait_min"),
    ({"slo": {"p95_ms": 0}}, "slo.p95_ms: must be > 0, got 0"),
    ({"slo": {"p95": 100}}, "slo.p95: unknown field"),
    ({"lb": {"memory": "x"}}, "lb.memory: must look like 512M"),
    ({"grid": {"cpu_period_ms": [0]}}, "grid.cpu_period_ms[0]: must be >= 1, got 0"),
    ({"grid": {"cpu_period_ms": [2000]}}, "grid.cpu_period_ms[0]: must be <= 1000, got 2000"),
    ({"grid": {"cpus": [0.05], "cpu_period_ms": [10]}},
     "0.05 CPU at a 10 ms period is a 0.5 ms quota: the kernel's minimum is 1 ms"),
])
def test_bad_values_name_their_field(tables, message):
    with pytest.raises(GridError) as info:
        parse_grid(minimal(**tables))
    assert message in str(info.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(GridError) as info:
        parse_grid(minimal(grid={"cpus": [-1], "replicas": [0]}, load={"users": 0}))
    assert len(str(info.value).splitlines()) == 3


def test_missing_table_is_named():
    with pytest.raises(GridError, match="load: required"):
        parse_grid({"grid": minimal()["grid"]})


def test_durations_and_ramp_length():
    load = parse_grid(minimal(load={"duration": "1h2m3s"})).load
    assert load.duration == 3723
    ramp = parse_grid(minimal(load={"users": 1200, "shape": "ramp", "step_users": 500, "step_duration": 10,
                                    "hold": "30s"})).load
    assert ramp.run_seconds == 3 * 10 + 30


def test_memory_units():
    assert memory_bytes("512M") == 512 * 2**20
    assert memory_bytes("1g") == 2**30
    assert memory_bytes("300000000") == 300_000_000


def test_file_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid\ncpus = [1]")
    with pytest.raises(GridError, match="not valid TOML"):
        load_grid(bad)
    with pytest.raises(GridError, match="cannot read"):
        load_grid(tmp_path / "missing.toml")
    bad.write_text('[grid]\ncpus = [0]\nmemory = ["512M"]\nreplicas = [1]\n[load]\nusers = 1\nspawn_rate = 1\n')
    with pytest.raises(GridError, match=r"bad\.toml:\ngrid\.cpus\[0\]: must be > 0, got 0"):
        load_grid(bad)


def test_machine_check_names_the_cell_value():
    grid = parse_grid(minimal(grid={"cpus": [1.0, 4.0]}, lb={"cpus": 3}))
    with pytest.raises(GridError) as info:
        check_machine(grid, 2)
    assert "grid.cpus[1]: must be <= 2 (this machine's cores), got 4" in str(info.value)
    assert "lb.cpus" in str(info.value)
