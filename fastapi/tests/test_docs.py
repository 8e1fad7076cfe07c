"""/docs and /redoc come with the API: every asset they name is local, relative to the page, and served."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest

ASSET_TYPES = {".js": ("text/javascript", "application/javascript"), ".css": ("text/css",), ".png": ("image/png",)}


def references(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"(?:url: |spec-url=)['\"]([^'\"]+)", html)


@pytest.mark.parametrize(("page", "assets"), [
    ("/docs", {"docs-assets/swagger-ui-bundle.js", "docs-assets/swagger-ui.css", "docs-assets/favicon.png"}),
    ("/redoc", {"docs-assets/redoc.standalone.js", "docs-assets/favicon.png"}),
])
def test_pages_name_only_local_assets_relative_to_themselves(client, page, assets):
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    found = references(response.text)
    assert set(found) == assets | {"openapi.json"}, found
    assert "//" not in response.text.replace("http://www.w3.org", "")  # no CDN, no font host, no absolute URL
    for reference in found:
        asset = client.get(urljoin(f"http://testserver{page}", reference))
        assert asset.status_code == 200 and len(asset.content) > 100, reference
        suffix = reference[reference.rfind("."):]
        expected = ASSET_TYPES.get(suffix, ("application/json",))
        assert asset.headers["content-type"].split(";")[0] in expected, (reference, asset.headers)


def test_behind_a_path_prefix_the_schema_names_it_and_the_oauth_redirect_carries_it(served, kit):
    from fastapi.testclient import TestClient

    with TestClient(kit.served_app(served), root_path="/lab/api") as client:
        page = client.get("/docs").text
        assert "window.location.origin + '/lab/api/docs/oauth2-redirect'" in page
        assert client.get("/openapi.json").json()["servers"] == [{"url": "/lab/api"}]
        assert client.get("/docs/oauth2-redirect").status_code == 200


def test_the_docs_stay_out_of_the_schema(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/docs", "/redoc", "/docs/oauth2-redirect"} & set(paths)
    assert client.get("/docs-assets/nothing.js").status_code == 404
