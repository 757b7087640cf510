"""``/static/{name}``: the console's scripts and style sheets, from this package (never a CDN).

Only the files of ``static/`` that a page links are served (a fixed set read at import: no path
from the request reaches the file system). Pages link each file with its content hash
(``/static/htmx.min.js?v=…``), so a file is cached for a year and a new release changes its URL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/static/"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
#: a hashed URL never changes content; an unhashed (or stale) one is revalidated
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=0, must-revalidate"


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    version: str

    @property
    def etag(self) -> str:
        return f'"{self.version}"'


def _load() -> dict[str, Asset]:
    assets = {}
    for path in sorted(STATIC_DIR.iterdir()):
        if path.suffix in _TYPES:
            body = path.read_bytes()
            assets[path.name] = Asset(body, _TYPES[path.suffix], hashlib.sha256(body).hexdigest()[:12])
    return assets


ASSETS = _load()


def static_url(name: str) -> str:
    """The versioned URL of a static file (a name that is not one is a programming error)."""
    return f"{PREFIX}{name}?v={ASSETS[name].version}"


router = APIRouter(include_in_schema=False)


@router.api_route(PREFIX + "{name}", methods=["GET", "HEAD"])
async def static_file(name: str, request: Request) -> Response:
    asset = ASSETS.get(name)
    if asset is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    versioned = request.query_params.get("v") == asset.version
    headers = {
        "Cache-Control": IMMUTABLE if versioned else REVALIDATE,
        "ETag": asset.etag,
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
