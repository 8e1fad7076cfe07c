"""Benchmark: our API against `mlflow models serve`, MLServer, BentoML, the usual FastAPI handler and a bare-ASGI
ceiling, and the deployed path through the lb.

`python -m bench` starts what it needs, measures each variant pinned to one core with wrk on the other, and
writes results/bench/<date>.md, .csv, -deployed.csv and .png with the targets of the benchmark issues.
"""
