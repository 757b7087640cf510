"""What keeps an open console current: the event stream's address, the session's renewal, the
language switch (the person's profile keeps their choice) and the person's presence.

``GET /stream`` is the page's ``sse-connect``: it answers a redirect to ``/api/v1/events`` with a
short-lived stream token, issued as ``POST /api/v1/events/token`` issues one, so the browser never
holds the access token; every reconnect (htmx's, after an error) asks again and gets a fresh one.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from cxinbox.console.units import in_unit_of_work
from cxinbox.console.visit import SIGN_IN_PATH, FormDep, Visit, VisitorDep, identify
from cxinbox.models.identity import Language, Presence
from cxinbox.profile import service as profile
from cxinbox.realtime.service import stream_token
from cxinbox.users import service as users
from cxinbox.web.i18n import MESSAGES

router = APIRouter(include_in_schema=False)
EVENTS_PATH = "/api/v1/events"


@router.get("/stream")
async def stream(visit: VisitorDep) -> Response:
    if not await identify(visit) or visit.member.organization_id is None:
        return visit.finish(Response("Sign in first", status_code=401, media_type="text/plain"))
    token, _ = stream_token(visit.runtime, visit.member)
    query = {"token": token}
    last = visit.request.headers.get("last-event-id", "")
    if last.isdigit():
        query["lastEventId"] = last
    headers = {"Cache-Control": "no-store"}
    return visit.finish(RedirectResponse(f"{EVENTS_PATH}?{urlencode(query)}", 307, headers=headers))


@router.post("/session/refresh")
async def refresh(visit: VisitorDep, form: FormDep) -> Response:
    """The pages' keep-alive: renews the tokens once the access token is past half its life."""
    half_life = visit.runtime.settings.access_token_ttl_seconds / 2
    if not await identify(visit, renew_within=half_life):
        return visit.redirect(SIGN_IN_PATH)
    return visit.finish(Response(status_code=204))


@router.post("/language")
async def choose_language(visit: VisitorDep, form: FormDep) -> Response:
    """The language switch: kept in the person's profile (as ``PATCH /profile/language``) when
    signed in, so that it follows them to every browser, and in a cookie for the signed-out pages."""
    language = form.get("language")
    if isinstance(language, str) and language in MESSAGES:
        if await identify(visit):
            chosen, principal, runtime = Language(language), visit.member, visit.runtime
            await in_unit_of_work(runtime, lambda s: profile.choose_language(s, runtime, principal, chosen))
        visit.choose_language(language)
    return _back(visit, form)


@router.post("/presence")
async def choose_presence(visit: VisitorDep, form: FormDep) -> Response:
    """The person's presence (as ``PATCH /users/{id}/status`` for their own id): the others see it
    on the team page and in the assignment list, and coming online picks up waiting conversations."""
    if not await identify(visit) or visit.member.organization_id is None:
        return visit.redirect(SIGN_IN_PATH)
    chosen = form.get("presence")
    if isinstance(chosen, str) and chosen in Presence.__members__:
        principal, runtime, presence = visit.member, visit.runtime, Presence(chosen)
        user_id = principal.require_user()
        await in_unit_of_work(runtime, lambda s: users.set_presence(s, runtime, principal, user_id, presence))
    return _back(visit, form)


def _back(visit: Visit, form: FormData) -> Response:
    """To the page the form was on (its ``next``), if that is a page of this site."""
    back = form.get("next")
    return visit.redirect(back if isinstance(back, str) and _own_path(back) else "/")


def _own_path(url: str) -> bool:
    """A path of this site (never another origin, such as ``//host`` or ``/\\host``)."""
    return url.startswith("/") and not url.startswith(("//", "/\\")) and "\n" not in url and len(url) < 2000
