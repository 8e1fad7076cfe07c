"""The Locust web UI in a real browser: start a run from the form, read the Capacity tab.

The README's UI command (`docker compose -f docker-compose-locust.yaml up -d`) against the running stack, two
workers; headless Chromium fills users and spawn rate, clicks Start, opens the Capacity tab and finds a row for
every API replica (each api container's address) and a verdict. The JSON behind it (/stats/requests) agrees.
"""

from __future__ import annotations

import pytest
from browser import chromium
from compose import Compose, http, inspect, wait_until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

LOCUST_FILES = ("docker-compose-locust.yaml",)
USERS, SPAWN_RATE, WORKERS = 30, 10, 2
CAPACITY_TAB = "//button[@role='tab'][normalize-space()='Capacity']"
NEW_TEST = "//button[normalize-space()='New']"


@pytest.fixture(scope="module")
def locust_ui(stack: Compose):
    env = {"LOCUST_WORKERS": str(WORKERS)}
    stack.run("up", "-d", "--build", "--wait", "--wait-timeout", "300", files=LOCUST_FILES, env=env, timeout=900)
    try:
        yield f"http://127.0.0.1:{stack.env['LOCUST_PORT']}"
    finally:
        stack.run("down", "--remove-orphans", files=LOCUST_FILES, env=env, check=False, timeout=180)


def replica_addresses(stack: Compose) -> set[str]:
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
    return {f"{ip}:8000" for cid in stack.container_ids("api") for ip in inspect(cid, fmt).split()}


def start_from_the_form(driver, users: int, spawn_rate: int) -> None:
    """Fill users and spawn rate, click Start (after "New" when a previous test is on screen), open the tab."""
    wait = WebDriverWait(driver, 60)
    form = (By.CSS_SELECTOR, "input[name=userCount]")
    wait.until(lambda d: d.find_elements(*form) or d.find_elements(By.XPATH, NEW_TEST))
    if not driver.find_elements(*form):
        driver.find_element(By.XPATH, NEW_TEST).click()
    for name, value in (("userCount", users), ("spawnRate", spawn_rate)):
        field = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, f"input[name={name}]")))
        field.send_keys(Keys.CONTROL, "a")  # clear() leaves React's default in place: 10000 + 30 -> 1000030
        field.send_keys(Keys.BACKSPACE, str(value))
        assert field.get_attribute("value") == str(value), field.get_attribute("value")
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait.until(ec.element_to_be_clickable((By.XPATH, CAPACITY_TAB))).click()


def capacity_table(driver) -> str:
    tables = driver.find_elements(By.TAG_NAME, "table")
    return tables[0].text if tables else ""


def test_start_a_run_and_read_the_capacity_tab(stack: Compose, locust_ui: str):
    replicas = replica_addresses(stack)
    assert replicas
    with chromium() as driver:
        driver.get(locust_ui)
        try:
            start_from_the_form(driver, USERS, SPAWN_RATE)
            text = wait_until(lambda: (t := capacity_table(driver)) and all(r in t for r in replicas)
                              and f"{USERS // WORKERS} users" in t and "Verdict IDLE" not in t and t, 90,
                              "every replica, both workers with their users and a verdict in the Capacity tab")
            driver.save_screenshot("/tmp/locust-capacity-tab-test.png")
            assert "Verdict" in text and ("VALID" in text or "INVALID" in text), text
            assert "offered vs delivered" in text and "Load balancer" in text, text
            status, data = http(f"{locust_ui}/stats/requests")
            assert status == 200 and data["user_count"] == USERS and data["worker_count"] == WORKERS
            capacity = data["capacity"]
            assert {r["address"] for r in capacity["replicas"]} == replicas
            assert capacity["verdict"]["verdict"] in ("VALID", "INVALID") and len(capacity["workers"]) == WORKERS
            assert all(r["error"] is None for r in capacity["replicas"]), capacity["replicas"]
        finally:
            http(f"{locust_ui}/stop", body={})  # POST
