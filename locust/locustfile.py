"""Locust entry point: a penguin API client, an optional load shape, generator telemetry and the Capacity tab.

Everything lives in the `loadtest` package; this file only wires it from LOCUST_* settings.
`LOCUST_SHAPE=ramp` exposes the stages shape (then -u/-r are ignored); `none` leaves -u/-r/-t in charge.
"""

from locust import events

from loadtest import capacity_tab, telemetry, workers
from loadtest.settings import Settings
from loadtest.shapes import shape_from_settings
from loadtest.user import make_user

settings = Settings()
PenguinUser = make_user(settings)
if (_shape := shape_from_settings(settings)) is not None:
    RampShape = _shape

events.init.add_listener(telemetry.on_init)
events.init.add_listener(capacity_tab.on_init)
events.init.add_listener(workers.on_init)
