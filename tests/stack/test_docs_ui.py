"""Swagger UI at /docs in a real browser, with no network beyond the stack: it renders the routes and
"Try it out" on POST /predict returns a species (the assets come from the API itself, not from a CDN)."""

from __future__ import annotations

from browser import chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

SPECIES = ("Adelie", "Chinstrap", "Gentoo")


def operation(driver, method: str, path: str):
    xpath = (f"//div[contains(@class,'opblock-{method}')][.//*[contains(@class,'opblock-summary-path')]"
             f"[normalize-space()='{path}']]")
    return WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.XPATH, xpath)))


def test_docs_render_and_try_it_out_predicts_a_species(api_url: str):
    with chromium() as driver:
        driver.get(f"{api_url}/docs")
        predict = operation(driver, "post", "/predict")
        operation(driver, "post", "/predict/batch")
        predict.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        wait = WebDriverWait(driver, 30)
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".opblock-post .try-out__btn"))).click()
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".opblock-post .execute"))).click()
        live = ".opblock-post .live-responses-table tr.response"
        body = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, f"{live} .response-col_description pre")))
        code = driver.find_element(By.CSS_SELECTOR, f"{live} .response-col_status")
        driver.save_screenshot("/tmp/docs-try-it-out-test.png")
        assert code.text.strip().startswith("200"), body.text
        assert any(species in body.text for species in SPECIES), body.text
