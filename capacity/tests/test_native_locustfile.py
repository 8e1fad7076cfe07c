"""The native backend's locustfile: the project's user, bound to the replicas in turn.

Run in a child process: importing Locust gevent-patches the interpreter, which the test session must not be.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json
from locust.env import Environment
from locust.util.load_locustfile import load_locustfile
users, shapes = load_locustfile("capacity/generators/native_locustfile.py")
(user_class,) = users.values()
env = Environment(user_classes=[user_class])
print(json.dumps({"names": list(users), "base": user_class.__mro__[1].__name__, "shapes": len(shapes),
                  "hosts": [user_class(env).host for _ in range(5)]}))
"""


def run(**env: str) -> dict:
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "locust"), str(ROOT)]), **env}
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=full, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_users_are_spread_round_robin_over_the_replicas():
    out = run(CAPACITY_TARGETS="http://127.0.0.1:1,http://127.0.0.1:2", LOCUST_SHAPE="none")
    assert out["names"] == ["RoundRobinUser"] and out["base"] == "PenguinUser" and out["shapes"] == 0
    assert out["hosts"] == ["http://127.0.0.1:1", "http://127.0.0.1:2"] * 2 + ["http://127.0.0.1:1"]


def test_the_ramp_shape_comes_along():
    out = run(CAPACITY_TARGETS="http://127.0.0.1:1", LOCUST_SHAPE="ramp", LOCUST_MAX_USERS="100")
    assert out["shapes"] == 1 and set(out["hosts"]) == {"http://127.0.0.1:1"}
