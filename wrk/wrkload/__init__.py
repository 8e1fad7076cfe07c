"""wrk as a closed-loop generator that emulates our Locust users and writes Locust's CSV files (wrk/README.md).

    from wrkload.runner import run
    result = run("http://127.0.0.1:8000", "results/wrk-x/locust", plan_for(load, users=1000, spawn_rate=100,
                 duration_s=60), load)
"""
