"""The profile's "where the time goes" split, on the collapsed stacks a full `make bench` recorded."""

from pathlib import Path

import pytest

from bench.profile import own_time_by_layer, top_functions

RECORDED = Path(__file__).resolve().parents[1] / "results" / "bench" / "2026-11-30-profile.txt"


def test_own_time_is_split_by_the_package_on_top_of_the_stack():
    layers = dict(own_time_by_layer(RECORDED))
    assert sum(layers.values()) == pytest.approx(100)
    ours = layers["our API (inference/: request handling, prediction, metrics)"]
    assert 5 < ours < 60 and layers["uvicorn (HTTP parsing, ASGI send)"] > ours  # 29% and 60% on 2026-11-30
    assert list(layers) == sorted(layers, key=layers.get, reverse=True)


def test_layers_and_top_functions_read_the_same_samples(tmp_path):
    raw = tmp_path / "stacks.txt"
    raw.write_text("main (x.py:1);FastPath._predict (inference/fastpath.py:133) 3\n"
                   "main (x.py:1);send (uvicorn/protocols/http/httptools_impl.py:524) 1\nnot a stack line\n")
    assert own_time_by_layer(raw) == [("our API (inference/: request handling, prediction, metrics)", 75.0),
                                      ("uvicorn (HTTP parsing, ASGI send)", 25.0)]
    assert top_functions(raw)[0] == ("FastPath._predict (inference/fastpath.py)", 75.0, 75.0)
