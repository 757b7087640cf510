"""Rendering a page: Jinja2 templates with every value escaped, and headers that keep the page to
itself (a strict Content-Security-Policy: no script, no outside resource, its one inline style
allowed by hash; no framing; no referrer, since links such as invitations carry a secret)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

_HERE = Path(__file__).parent
_environment = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)
#: the pages' only style sheet, inlined (and allowed by its hash, not by 'unsafe-inline')
_STYLE = (_HERE / "style.css").read_text()
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _environment.get_template(template).render(style=Markup(_STYLE), **context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
