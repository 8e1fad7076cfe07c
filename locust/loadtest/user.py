"""The simulated client: single predictions (natural or legacy form), batches and model-info, each checked.

`make_user(settings)` builds the concrete user class, so weights, wait time and batch size come from the
LOCUST_* settings and tests can build one from their own Settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from locust import FastHttpUser, between

from loadtest.checks import Verdict, check_batch, check_model_info, check_single
from loadtest.payloads import Payload, PayloadSampler, load_rows
from loadtest.settings import Settings
from loadtest.telemetry import QUALITY

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


def judge(response, check: Callable[[object], Verdict]) -> None:
    """Mark a `catch_response` response failed unless it is a 200 with a valid body."""
    if response.status_code != 200:
        response.failure(f"HTTP {response.status_code}")
        return
    try:
        body = response.json()
    except ValueError:
        response.failure("body is not JSON")
        return
    verdict = check(body)
    if verdict.error:
        response.failure(verdict.error)
        return
    QUALITY.add(verdict)
    response.success()


class PenguinClient(FastHttpUser):
    abstract = True
    sampler: ClassVar[PayloadSampler]
    batch_size: ClassVar[int] = 10

    def post_checked(self, path: str, name: str, payload: Payload, check: Callable[[object], Verdict]) -> None:
        with self.client.post(path, data=payload.data, headers=JSON_HEADERS, name=name,
                              catch_response=True) as response:
            judge(response, check)


def predict(user: PenguinClient) -> None:
    payload = user.sampler.single()
    legacy = payload.form == "legacy"
    user.post_checked("/predict", f"/predict [{payload.form}]", payload,
                      lambda body: check_single(body, payload.expected[0], legacy))


def predict_batch(user: PenguinClient) -> None:
    payload = user.sampler.batch(user.batch_size)
    user.post_checked("/predict/batch", "/predict/batch", payload, lambda body: check_batch(body, payload.expected))


def model_info(user: PenguinClient) -> None:
    with user.client.get("/model-info", headers=JSON_HEADERS, name="/model-info", catch_response=True) as resp:
        judge(resp, check_model_info)


def make_user(settings: Settings) -> type[PenguinClient]:
    weights = {predict: settings.weight_predict, predict_batch: settings.weight_batch,
               model_info: settings.weight_model_info}

    class PenguinUser(PenguinClient):
        """A client of the penguin API; task mix and think time from LOCUST_* settings."""

        abstract = False
        host = settings.host
        wait_time = between(settings.wait_min, settings.wait_max)
        tasks = {fn: w for fn, w in weights.items() if w > 0}
        sampler = PayloadSampler(load_rows(), settings.legacy_share)
        batch_size = settings.batch_size

    return PenguinUser
