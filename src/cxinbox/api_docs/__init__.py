"""The interactive API documentation page, served with assets from the installed package.

FastAPI's default docs page loads Swagger UI from a CDN, so it is blank on a machine without
internet access (an on-premise install, a laptop on a plane). Here the page points at the copy of
Swagger UI that the ``swagger-ui-bundle-v2`` package ships, served by the API itself.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")


def install_api_docs(app: FastAPI, *, docs_url: str, openapi_url: str, title: str) -> None:
    """Serve Swagger UI at ``docs_url`` and its assets below ``{docs_url}/assets``."""
    assets_url = f"{docs_url}/assets"
    js, css, favicon = (f"{assets_url}/{name}" for name in ASSETS)
    app.mount(assets_url, StaticFiles(directory=swagger_ui_path), name="api-docs-assets")

    async def docs_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - docs",
            swagger_js_url=js,
            swagger_css_url=css,
            swagger_favicon_url=favicon,
        )

    app.add_api_route(docs_url, docs_page, include_in_schema=False, methods=["GET"])
