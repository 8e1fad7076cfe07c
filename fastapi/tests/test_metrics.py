"""/metrics summed over server processes: each shares its numbers in METRICS_DIR, any one answers a scrape."""

import asyncio
import os
import subprocess

import msgspec
import pytest

from inference.__main__ import prepare_metrics_dir
from inference.metrics import BUCKETS, Metrics, ProcessStats
from inference.settings import Settings


def buckets(n: int) -> list[int]:
    return [n] + [0] * len(BUCKETS)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def write(folder, stats: ProcessStats) -> None:
    (folder / f"{stats.pid}.msgpack").write_bytes(msgspec.msgpack.encode(stats))


def test_a_scrape_sums_all_processes_and_counts_the_live_ones_serving(tmp_path):
    metrics = Metrics(str(tmp_path))
    metrics.observe("/predict", "POST", 200, 0.00005)
    metrics.predicted("Adelie")
    metrics.served("penguins", "2", "production", "folded", 200.0)
    metrics.share()  # its own file is not counted twice
    write(tmp_path, ProcessStats(pid=os.getppid(), series={"/predict POST 200": [3, 0.0003, buckets(3)]},
                                 species={"Adelie": 2, "Gentoo": 1}, reloads=1,
                                 model=["penguins", "1", "production", "folded"], loaded_at=100.0))
    write(tmp_path, ProcessStats(pid=dead_pid(), series={"/predict POST 422": [2, 0.0002, buckets(2)]},
                                 failures={"load": 1}, reloads=1, model=["penguins", "0", "production", "folded"],
                                 loaded_at=300.0))
    (tmp_path / "junk.msgpack").write_bytes(b"\xc1 not msgpack")
    text = metrics.render().decode()
    assert 'http_requests_total{method="POST",route="/predict",status="200"} 4.0' in text
    assert 'http_requests_total{method="POST",route="/predict",status="422"} 2.0' in text
    assert 'http_request_duration_seconds_bucket{le="0.0001",route="/predict",status="200"} 4.0' in text
    assert 'predictions_total{species="Adelie"} 3.0' in text and 'predictions_total{species="Gentoo"} 1.0' in text
    assert 'model_reload_failures_total{stage="load"} 1.0' in text
    assert 'model_reload_failures_total{stage="resolve"} 0.0' in text
    assert "model_reloads_total 3.0" in text  # counters keep what a process that ended had counted
    assert 'served_model_info{alias="production",kind="folded",name="penguins",version="2"} 1.0' in text
    assert 'served_model_info{alias="production",kind="folded",name="penguins",version="1"} 1.0' in text
    assert 'version="0"' not in text  # ... but a process that ended serves nothing
    assert "served_model_loaded_timestamp_seconds 200.0" in text


def test_a_single_process_shares_nothing(tmp_path):
    metrics = Metrics()
    metrics.observe("/predict", "POST", 200, 0.001)
    metrics.share()
    assert 'route="/predict",status="200"} 1.0' in metrics.render().decode()


def test_odd_methods_and_unknown_routes_fold_into_other():
    metrics = Metrics()
    for method, route in (("GET", "/secret/a b"), ("M SEARCH", "/predict"), ("X" * 20, "/ready")):
        metrics.observe(route, method, 404, 0.001)
    text = metrics.render().decode()
    assert 'http_requests_total{method="GET",route="other",status="404"} 1.0' in text
    assert 'http_requests_total{method="other",route="/predict",status="404"} 1.0' in text
    assert 'http_requests_total{method="other",route="/ready",status="404"} 1.0' in text


def test_the_last_numbers_are_shared_when_the_process_stops(tmp_path):
    metrics = Metrics(str(tmp_path))

    async def scenario():
        task = asyncio.create_task(metrics.share_periodically())
        await asyncio.sleep(0.05)
        metrics.predicted("Chinstrap", 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    shared = msgspec.msgpack.decode((tmp_path / f"{os.getpid()}.msgpack").read_bytes(), type=ProcessStats)
    assert shared.species["Chinstrap"] == 5
    assert not list(tmp_path.glob("*.partial"))


def test_several_processes_get_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("METRICS_DIR", "")  # restored after the test, whatever prepare_metrics_dir sets
    scratch = tmp_path / "scratch"
    assert prepare_metrics_dir(Settings(web_concurrency=1), str(scratch)).metrics_dir is None
    assert prepare_metrics_dir(Settings(web_concurrency=3), str(scratch)).metrics_dir == str(scratch)
    assert os.environ["METRICS_DIR"] == str(scratch) and scratch.is_dir()
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    (chosen / "123.msgpack").write_bytes(b"from an earlier run")
    (chosen / "notes.txt").write_text("kept")
    settings = Settings(web_concurrency=2, metrics_dir=str(chosen))
    assert prepare_metrics_dir(settings, str(scratch)).metrics_dir == str(chosen)
    assert sorted(p.name for p in chosen.iterdir()) == ["notes.txt"]


def test_a_folder_that_vanished_is_logged_once_and_serving_goes_on(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr("inference.metrics.SHARE_EVERY_S", 0.01)
    metrics = Metrics(str(tmp_path / "gone"))

    async def scenario():
        task = asyncio.create_task(metrics.share_periodically())
        await asyncio.sleep(0.2)  # about 20 attempts
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    warnings = [r for r in caplog.records if r.getMessage().startswith("event=metrics_share_failed")]
    assert len(warnings) == 1 and "gone" in warnings[0].getMessage()
    assert "predictions_total" in metrics.render().decode()
