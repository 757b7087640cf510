"""The documentation page works with no network: every asset it names is served by the API itself."""

from __future__ import annotations

import re

import httpx

from tests.conftest import API

ASSET_REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']|url: ?["']([^"']+)["']""")


async def test_docs_page_loads_every_asset_from_the_server(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text, "the page names an outside host"

    references = {a or b for a, b in ASSET_REFERENCE.findall(page.text)}
    assert {f"{API}/docs/assets/swagger-ui-bundle.js", f"{API}/docs/assets/swagger-ui.css"} <= references
    assert f"{API}/openapi.json" in references
    for reference in references:
        asset = await client.get(reference.removeprefix(API))
        assert asset.status_code == 200, reference
        assert asset.content, reference


async def test_an_unknown_asset_is_a_404_in_the_error_envelope(client: httpx.AsyncClient) -> None:
    missing = await client.get("/docs/assets/no-such-file.js")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
