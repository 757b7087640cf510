"""Rendering a page: Jinja2 templates with every value escaped, and headers that keep the page to
itself.

Two policies: the stand-alone pages (the invitation page) have no script and one inline style
allowed by its hash; the console loads its scripts and styles from ``/static/`` of the same origin
and nothing inline (``script-src 'self'``: no inline script, no event-handler attribute, no eval;
htmx is configured by a ``<meta>``). Neither may be framed; the stand-alone pages send no referrer,
since links such as invitations carry a secret.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from cxinbox.web.static import static_url

_HERE = Path(__file__).parent
_environment = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)
_environment.globals["static"] = static_url
#: the stand-alone pages' only style sheet, inlined (and allowed by its hash, not by 'unsafe-inline')
_STYLE = (_HERE / "style.css").read_text()
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()

_COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    **_COMMON_HEADERS,
}
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    **_COMMON_HEADERS,
}


def render(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _environment.get_template(template).render(style=Markup(_STYLE), **context)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def render_console(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _environment.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=CONSOLE_HEADERS)
