"""Locustfile for the cross-check: FastHttpUser posting the benchmark body to one route, no wait between tasks.

    locust -f bench/locust_check.py --headless -u 32 -r 32 -t 5s -H http://127.0.0.1:PORT \
        --body-file body.json --predict-path /predict
"""

from __future__ import annotations

from locust import FastHttpUser, events, task


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    parser.add_argument("--body-file", type=str, required=True, help="JSON request body to POST")
    parser.add_argument("--predict-path", type=str, default="/predict", help="route to POST to")


class BenchUser(FastHttpUser):
    body = b""
    path = "/predict"

    def on_start(self) -> None:
        options = self.environment.parsed_options
        with open(options.body_file, "rb") as f:
            self.body = f.read()
        self.path = options.predict_path

    @task
    def predict(self) -> None:
        self.client.post(self.path, data=self.body, headers={"Content-Type": "application/json"}, name="predict")
