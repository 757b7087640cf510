"""What the administration pages share: who may open each one (the role the API asks of its
actions; anyone else gets a 403 page and nothing of its content), the form values they read, and
how an action is run and answered.

An action runs in a unit of work through the service the API's endpoint calls. When it works the
browser is sent back to the page with a notice (``?done=<what>``, one of the page's own words, so
a link cannot make the page say anything else); when it fails the page is shown again with the
error, answered with the error's status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from cxinbox.audit.request import Actor
from cxinbox.console.inbox import no_organization
from cxinbox.console.places import Place
from cxinbox.console.units import in_unit_of_work
from cxinbox.console.visit import Visit
from cxinbox.core.errors import AppError
from cxinbox.core.http import client_ip


def refused(visit: Visit, page: Place) -> Response | None:
    """None when the person may use ``page``; else the page that says why (403 for a role)."""
    if visit.member.organization_id is None:
        return no_organization(visit)
    if not visit.member.has_role(*page.roles):
        return visit.page("console/message.html", 403, title=visit.t(page.title), text=visit.t("not_allowed"))
    return None


def actor(visit: Visit) -> Actor:
    """The signed-in person as the audit log records an action: with their address."""
    return Actor(visit.member, client_ip(visit.request))


def text(form: FormData, name: str, limit: int = 500) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def notice(visit: Visit, done_keys: tuple[str, ...]) -> str | None:
    """The notice a page shows after an action: only one of its own words."""
    done = visit.request.query_params.get("done", "")
    return visit.t(f"done_{done}") if done in done_keys else None


def error_text(visit: Visit, exc: AppError) -> str:
    return visit.t("action_failed", message=exc.message)


#: the page shown again after a failed action, with its status and error
ShownAgain = Callable[[int, str], Awaitable[Response]]


def again(page: Callable[..., Awaitable[Response]], visit: Visit, **context: object) -> ShownAgain:
    """``page(visit, status, error=…, **context)``, as a failed action shows it again."""

    async def shown_again(status_code: int, error: str) -> Response:
        return await page(visit, status_code, error=error, **context)

    return shown_again


async def perform(
    visit: Visit,
    work: Callable[[AsyncSession], Awaitable[Any]],
    back: str,
    done: str,
    shown_again: ShownAgain,
) -> Response:
    """Run ``work``; back to ``back`` with the ``done`` notice, or ``shown_again(status, error)``."""
    try:
        await in_unit_of_work(visit.runtime, work)
    except AppError as exc:
        return await shown_again(exc.status_code, error_text(visit, exc))
    return visit.redirect(f"{back}?done={done}")
