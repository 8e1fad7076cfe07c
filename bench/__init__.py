"""Benchmark: our API against `mlflow models serve`, the usual FastAPI handler and a bare-ASGI ceiling.

`python -m bench` starts what it needs, measures each variant pinned to one core with wrk on the other, and
writes results/bench/<date>.md, .csv and .png with the targets of the benchmark issue.
"""
