"""The request mix, drawn with loadtest's own sampler and weights (natural / legacy / batch / model-info).

Names and methods are the ones the Locust user (loadtest.user) gives its requests, so both generators' CSV
rows line up; tests/test_wrk_generator.py checks them against a Locust run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from loadtest.payloads import PayloadSampler, load_rows
from loadtest.settings import Settings

# kind -> (method, Locust request name)
NAMES = {"natural": ("POST", "/predict [natural]"), "legacy": ("POST", "/predict [legacy]"),
         "batch": ("POST", "/predict/batch"), "model-info": ("GET", "/model-info")}
PATHS = {"natural": "/predict", "legacy": "/predict", "batch": "/predict/batch", "model-info": "/model-info"}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}  # loadtest.user.JSON_HEADERS


@dataclass(frozen=True)
class Request:
    kind: str
    body: bytes | None

    @property
    def method(self) -> str:
        return NAMES[self.kind][0]

    @property
    def path(self) -> str:
        return PATHS[self.kind]


def draw(load: Settings, count: int, rng: random.Random) -> list[Request]:
    """`count` requests, each task picked by Locust's weights, bodies from loadtest.payloads."""
    sampler = PayloadSampler(load_rows(), load.legacy_share, rng)
    tasks = [t for t, w in (("predict", load.weight_predict), ("batch", load.weight_batch),
                            ("model-info", load.weight_model_info)) if w > 0]
    weights = [{"predict": load.weight_predict, "batch": load.weight_batch,
                "model-info": load.weight_model_info}[t] for t in tasks]
    out = []
    for task in rng.choices(tasks, weights, k=count):
        if task == "predict":
            p = sampler.single()
            out.append(Request(p.form, p.data))
        elif task == "batch":
            out.append(Request("batch", sampler.batch(load.batch_size).data))
        else:
            out.append(Request("model-info", None))
    return out
