"""Cells: every combination once, stable slugs, the env knobs compose reads, the cost order."""

from capacity.backends.native.backend import core_sets
from capacity.core.cells import Cell, expand, locust_env
from capacity.core.grid import Lb, parse_grid


def grid(**load):
    return parse_grid({"grid": {"cpus": [1.0, 0.5, 0.25], "memory": ["512M", "256M"], "replicas": [1, 2]},
                       "load": {"users": 100, "spawn_rate": 10, **load}, "lb": {"cpus": 0.5, "memory": "128M"}})


def test_expand_is_the_full_product_in_grid_order():
    cells = expand(grid())
    assert len(cells) == 12
    assert [c.index for c in cells] == list(range(1, 13))
    assert (cells[0].cpus, cells[0].memory, cells[0].replicas) == (1.0, "512M", 1)
    assert (cells[-1].cpus, cells[-1].memory, cells[-1].replicas) == (0.25, "256M", 2)
    assert len({c.slug for c in cells}) == 12


def test_slug_is_made_of_values_only():
    assert Cell(7, 0.25, "256M", 2, 1).slug == "cpu0.25-mem256M-x2-p1"
    assert Cell(1, 0.25, "256M", 2, 1).slug == Cell(7, 0.25, "256M", 2, 1).slug


def test_env_sets_the_compose_knobs():
    env = Cell(1, 0.5, "256M", 2, 3).env(Lb(cpus=0.5, memory="128M"))
    assert env == {"API_CPUS": "0.5", "API_MEMORY": "256M", "API_REPLICAS": "2", "WEB_CONCURRENCY": "3",
                   "LB_CPUS": "0.5", "LB_MEMORY": "128M"}


def test_cost_orders_by_total_cpu_then_total_memory():
    a = Cell(1, 1.0, "256M", 1, 1)  # 1 CPU, 256M
    b = Cell(2, 0.5, "512M", 2, 1)  # 1 CPU, 1G
    c = Cell(3, 0.25, "512M", 2, 1)  # 0.5 CPU
    assert sorted([a, b, c], key=Cell.cost) == [c, a, b]


def test_locust_env_plain_and_ramp():
    plain = locust_env(grid().load)
    assert plain == {"LOCUST_HEADLESS": "true", "LOCUST_USERS": "100", "LOCUST_SPAWN_RATE": "10",
                     "LOCUST_RUN_TIME": "60s", "LOCUST_WAIT_MIN": "1", "LOCUST_WAIT_MAX": "2.5", "LOCUST_SHAPE": "none"}
    ramp = locust_env(grid(shape="ramp", step_users=50, step_duration="20s", hold=0).load)
    assert ramp["LOCUST_MAX_USERS"] == "100" and ramp["LOCUST_STEP_USERS"] == "50"
    assert ramp["LOCUST_STEP_DURATION_S"] == "20" and ramp["LOCUST_HOLD_DURATION_S"] == "0"
    assert "LOCUST_USERS" not in ramp and "LOCUST_RUN_TIME" not in ramp  # the shape decides


def test_native_core_sets_round_up_to_whole_cores():
    assert core_sets(0.25, 1, [0, 1]) == [[0]]
    assert core_sets(0.5, 2, [0, 1]) == [[0], [1]]
    assert core_sets(1.5, 2, [0, 1]) == [[0, 1], [0, 1]]
    assert core_sets(4.0, 1, [0, 1]) == [[0, 1]]
    assert core_sets(1.0, 3, [2, 3]) == [[2], [3], [2]]


def test_the_cfs_period_is_an_axis_named_only_when_not_dockers_default():
    cells = expand(parse_grid({"grid": {"cpus": [0.1], "memory": ["256M"], "replicas": [1], "cpu_period_ms": [100, 10]},
                               "load": {"users": 100, "spawn_rate": 10}}))
    assert [c.slug for c in cells] == ["cpu0.1-mem256M-x1-p1", "cpu0.1-mem256M-x1-p1-period10ms"]
    assert [c.label for c in cells] == ["1 x (0.1 CPU, 256M)", "1 x (0.1 CPU, 256M, 10 ms period)"]
    assert cells[0].env(Lb()) == cells[1].env(Lb())  # compose never sees it: the backend writes the cgroup


def test_a_cell_json_from_before_the_period_reads_as_100_ms():
    from capacity.core.records import CellInfo
    old = {k: v for k, v in Cell(3, 0.25, "256M", 2, 1).as_dict().items() if k != "cpu_period_ms"}
    assert CellInfo(**old).to_cell() == Cell(3, 0.25, "256M", 2, 1, 100)


def test_find_refuses_a_cfs_period_that_would_give_a_quota_under_1_ms(capsys, tmp_path):
    from capacity.__main__ import main
    out = tmp_path / "run"
    code = main(["find", "--users", "10", "--cpus", "0.05,0.1", "--cpu-period", "10", "--out", str(out)])
    assert code == 2 and "0.05 CPU at a 10 ms period is a 0.5 ms quota" in capsys.readouterr().err
    code = main(["find", "--users", "10", "--cpu-period", "10", "--backend", "native", "--cpus", "1",
                 "--out", str(out)])
    assert code == 2 and "grid.cpu_period_ms [10] needs --backend docker, not native" in capsys.readouterr().err
    assert not out.exists()
