"""Rendering a console page: Jinja2 templates with every value escaped, and headers that keep the
page to itself.

The console loads its scripts and styles from ``/static/`` of the same origin and nothing inline
(``script-src 'self'``: no inline script, no event-handler attribute, no eval; htmx is configured by
a ``<meta>``), and may not be framed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cxinbox.web.static import static_url

_HERE = Path(__file__).parent
_environment = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    auto_reload=False,
)
_environment.globals["static"] = static_url


def order_instant(moment: datetime | None) -> str:
    """``moment`` as fixed-width UTC text, so that rows compare as their times do (a page orders
    live rows by it); none (no message yet) compares above every time: first in the newest-first
    list, where the list's query puts it too."""
    if moment is None:
        return "~"
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


_environment.filters["order_instant"] = order_instant

CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def render_console(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = _environment.get_template(template).render(**context)
    return HTMLResponse(html, status_code=status_code, headers=CONSOLE_HEADERS)
