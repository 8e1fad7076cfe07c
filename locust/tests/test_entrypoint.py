"""The container entry point: which folders it prepares and whom Locust runs as."""

import os

from loadtest.entrypoint import APP_ID, chown_tree, identity, make_dirs, run_dirs
from loadtest.settings import Settings


def test_run_dirs_are_the_folders_locust_writes_under_results(tmp_path):
    results = tmp_path / "results"
    s = Settings(csv=f"{results}/run-1/locust", html=f"{results}/run-1/report.html")
    assert run_dirs(s, results) == [results / "run-1"]
    assert run_dirs(Settings(csv="/elsewhere/locust", html=f"{results}/report.html"), results) == []
    assert run_dirs(Settings(), results) == []


def test_identity_follows_the_owner_of_results(tmp_path):
    results = tmp_path / "results"
    assert identity(results) == ((APP_ID, APP_ID), None)  # a worker: no results folder
    results.mkdir()
    os.chown(results, 4242, 4343)
    assert identity(results) == ((4242, 4343), None)
    os.chown(results, 0, 55)
    assert identity(results) == ((APP_ID, APP_ID), (0, 55))  # never Locust as root: hand back at exit


def test_chown_tree(tmp_path):
    (tmp_path / "run" / "sub").mkdir(parents=True)
    (tmp_path / "run" / "sub" / "f.csv").write_text("x")
    chown_tree(tmp_path / "run", 4242, 4242)
    assert {p.stat().st_uid for p in (tmp_path / "run").rglob("*")} | {(tmp_path / "run").stat().st_uid} == {4242}


def test_make_dirs_gives_every_new_folder_to_the_user(tmp_path):
    (tmp_path / "sweep").mkdir()
    make_dirs(tmp_path / "sweep" / "cell-1" / "try-2", 4242, 4242, results=tmp_path)
    assert (tmp_path / "sweep").stat().st_uid == 0  # existing: left alone
    assert {(tmp_path / p).stat().st_uid for p in ("sweep/cell-1", "sweep/cell-1/try-2")} == {4242}
