"""The console's routes, and the answers to a visit that needs signing in or sent a form without
its CSRF token."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response

from cxinbox.console import (
    analytics,
    api_keys,
    billing,
    bot,
    branding,
    campaigns,
    conversation,
    conversation_tools,
    inbox,
    invite,
    knowledge,
    live,
    numbers,
    routing,
    sign_in,
    team,
    teams,
    templates,
)
from cxinbox.console.visit import SIGN_IN_PATH, FormRefused, SignInNeeded
from cxinbox.web.static import router as static_router

ROUTERS = (
    static_router,
    sign_in.router,
    invite.router,
    live.router,
    inbox.router,
    conversation_tools.router,  # before the conversation's parts (/conversations/{id}/{part})
    conversation.router,
    team.router,
    teams.router,
    numbers.router,
    api_keys.router,
    branding.router,
    bot.router,
    knowledge.router,
    routing.router,
    templates.router,
    campaigns.router,
    analytics.router,
    billing.router,
)


async def _sign_in_needed(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    return exc.visit.redirect(SIGN_IN_PATH)


async def _form_refused(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FormRefused)
    visit = exc.visit
    return visit.page("console/message.html", 403, title=visit.t("sign_in"), text=visit.t("form_expired"))


def install_console(app: FastAPI) -> None:
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(FormRefused, _form_refused)
