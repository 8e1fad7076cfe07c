"""/docs (Swagger UI) and /redoc served by the API itself, with no CDN: FastAPI's "self-hosting JavaScript and
CSS for docs" recipe, with the pinned assets that the fastapi-offline package ships (Swagger UI 5, ReDoc 2).

The pages name their assets and the schema relative to themselves (`docs-assets/...`, `openapi.json`), so they
work offline, through the lb, and under any path prefix a proxy adds; the OAuth2 redirect, the one absolute
path Swagger UI needs, carries the ASGI root path.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"  # fastapi_offline/static: swagger-ui-bundle.js, swagger-ui.css, redoc.standalone.js
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def install_docs(api: FastAPI) -> None:
    """Call on an app created with docs_url=None and redoc_url=None."""
    api.mount(ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")
    openapi, assets = api.openapi_url.lstrip("/"), ASSETS.lstrip("/")

    @api.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi, title=f"{api.title} - Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js", swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            oauth2_redirect_url=request.scope.get("root_path", "").rstrip("/") + OAUTH2_REDIRECT)

    @api.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @api.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi, title=f"{api.title} - ReDoc",
                              redoc_js_url=f"{assets}/redoc.standalone.js",
                              redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False)
