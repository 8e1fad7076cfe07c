"""The sweep loop with a fake backend: records, resume, Ctrl-C, and the report's answer, tables and charts."""

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from capacity.cli.main import sweep
from capacity.core.cells import Cell
from capacity.core.grid import GridError, parse_grid
from capacity.core.records import CellEvents, CellInfo, CellMetrics, CellRecord
from capacity.report.sweep import answer_line, cheapest_passing, write_report

DATA = Path(__file__).with_name("data")


def make_grid(users=200, p95_ms=500.0, cpus=(1.0, 0.5)):
    return parse_grid({"name": "t", "grid": {"cpus": list(cpus), "memory": ["512M", "256M"], "replicas": [1, 2]},
                       "load": {"users": users, "spawn_rate": 50, "duration": 5}, "slo": {"p95_ms": p95_ms}})


class FakeBackend:
    """Every cell serves the recorded clean run; 256M cells with one replica get OOM-killed."""

    name = "fake"

    def __init__(self, interrupt_at: int | None = None):
        self.ran: list[str] = []
        self.closed = 0
        self.interrupt_at = interrupt_at

    def prepare(self, grid, out):
        return ["fake backend"]

    def close(self):
        self.closed += 1

    def run_cell(self, cell: Cell, grid, cell_dir: Path) -> CellEvents:
        if cell.index == self.interrupt_at:
            raise KeyboardInterrupt
        self.ran.append(cell.slug)
        for f in (DATA / "locust_ok").iterdir():
            shutil.copy(f, cell_dir / f.name)
        (cell_dir / "resources.csv").write_text(
            "timestamp,role,name,cpu_pct,mem_bytes,mem_limit_bytes\n"
            f"1,api,api-1,{cell.cpus * 90},{150 * 2**20},{cell.memory_bytes}\n")
        oom = cell.memory == "256M" and cell.replicas == 1
        return CellEvents(oom_killed=int(oom))


def records_of(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/cell.json")}


def test_sweep_writes_cells_tables_charts_and_the_answer(tmp_path):
    backend = FakeBackend()
    sweep(make_grid(), backend, tmp_path, progress=False)
    assert len(backend.ran) == 8 and backend.closed == 1
    records = records_of(tmp_path)
    assert records["cpu0.5-mem256M-x1-p1"]["status"] == "fail"
    assert records["cpu0.5-mem256M-x2-p1"]["status"] == "pass"
    summary = (tmp_path / "summary.md").read_text()
    # cheapest passing: 0.5 CPU x 1 replica with 512M (0.5 CPU total) beats 0.5 x 2 (1 CPU) and 256M x 1 (OOM)
    assert summary.splitlines()[0].startswith("**Answer: the cheapest configuration that holds 200 users is "
                                              "1 x (0.5 CPU, 512M)**")
    assert "OOM: 1 replica(s) killed" in summary and "| configuration | RPS max |" in summary
    assert re.search(r"; code: commit [0-9a-f]{7,}( with uncommitted changes)?\.", summary)  # traceable
    with open(tmp_path / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and {r["status"] for r in rows} == {"pass", "fail"}
    for png in ("throughput.png", "p95.png", "cpu1-mem512M-x1-p1/timeline.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"


def test_resume_skips_finished_cells(tmp_path):
    interrupted = FakeBackend(interrupt_at=3)
    with pytest.raises(KeyboardInterrupt):
        sweep(make_grid(), interrupted, tmp_path, progress=False)
    assert interrupted.closed == 1  # the backend restored its defaults
    assert len(records_of(tmp_path)) == 2
    assert "6 cell(s) not run yet" in (tmp_path / "summary.md").read_text()
    backend = FakeBackend()
    sweep(make_grid(), backend, tmp_path, progress=False)
    assert len(backend.ran) == 6 and len(records_of(tmp_path)) == 8


def test_resume_refuses_a_different_load(tmp_path):
    sweep(make_grid(cpus=[1.0]), FakeBackend(), tmp_path, progress=False)
    with pytest.raises(GridError, match="different `load`"):
        sweep(make_grid(users=300, cpus=[1.0]), FakeBackend(), tmp_path, progress=False)


def test_no_passing_cell_says_so(tmp_path):
    sweep(make_grid(p95_ms=1.0, cpus=[1.0]), FakeBackend(), tmp_path, progress=False)
    first = (tmp_path / "summary.md").read_text().splitlines()[0]
    assert first.startswith("**Answer: no configuration held 200 users within the SLO**")


def test_report_rebuilds_from_cell_folders(tmp_path):
    sweep(make_grid(cpus=[1.0]), FakeBackend(), tmp_path, progress=False)
    (tmp_path / "summary.md").unlink()
    records = write_report(tmp_path)
    assert len(records) == 4 and (tmp_path / "summary.md").exists()


def record(cpus, memory, replicas, status="pass"):
    cell = Cell(1, cpus, memory, replicas, 1)
    return CellRecord(cell=CellInfo.of(cell), status=status, reasons=[], metrics=CellMetrics(p95_ms=10, rps_mean=5.0),
                      backend="fake", started_at="", finished_at="", wall_s=0)


def test_cheapest_is_cpu_times_replicas_then_memory():
    records = [record(1.0, "256M", 1), record(0.5, "512M", 2), record(0.5, "256M", 1, "fail"),
               record(0.25, "512M", 4), record(1.0, "512M", 1)]
    assert cheapest_passing(records).cell.slug == "cpu1-mem256M-x1-p1"
    records.append(record(0.25, "256M", 2, "invalid"))
    assert cheapest_passing(records).cell.slug == "cpu1-mem256M-x1-p1"
    run = {"grid": {"load": {"users": 2000}}}
    assert "1 x (1 CPU, 256M)" in answer_line(records, run)
    assert "no configuration" in answer_line([], run)


COMMITTED_RUN = Path(__file__).resolve().parents[2] / "results" / "20261123-121625"


def test_committed_cell_json_files_load_and_rebuild_the_same_report(tmp_path):
    """cell.json files written before CellRecord existed load through it, and the report is unchanged."""
    run = Path(shutil.copytree(COMMITTED_RUN, tmp_path / "run"))
    records = write_report(run)
    assert len(records) == 12 and all(isinstance(r.metrics.p95_ms, float) for r in records)
    assert (run / "summary.csv").read_text() == (COMMITTED_RUN / "summary.csv").read_text()
    assert (run / "summary.md").read_text() == (COMMITTED_RUN / "summary.md").read_text()


def test_a_mistyped_cell_json_field_is_an_error(tmp_path):
    good = json.loads(next(COMMITTED_RUN.glob("*/cell.json")).read_text())
    for broken in ({**good, "metrics": {**good["metrics"], "p59_ms": 1.0}},
                   {**good, "metrics": {**good["metrics"], "p95_ms": "fast"}},
                   {**good, "status": "passed"}):
        (tmp_path / "cell.json").write_text(json.dumps(broken))
        with pytest.raises(ValueError):
            CellRecord.read(tmp_path)


def test_cells_with_workers_on_other_hosts_get_a_workers_per_host_column(tmp_path):
    run = Path(shutil.copytree(COMMITTED_RUN, tmp_path / "run"))
    first = sorted(run.glob("*/cell.json"))[0]
    record = json.loads(first.read_text())
    record["metrics"]["generator_hosts"] = {"local": 1, "hostb": 1, "hostc": 1}
    first.write_text(json.dumps(record))
    write_report(run)
    lines = (run / "summary.md").read_text().splitlines()
    header = next(line for line in lines if line.startswith("| configuration"))
    assert "| Locust workers per host | status |" in header
    assert any("| hostb 1, hostc 1, local 1 |" in line for line in lines)
    assert any(line.endswith("| - | pass | SLO held |") or "| - | FAIL |" in line for line in lines)
