"""FastAPI application factory: middleware, error handlers, routers.

Building the app (and its OpenAPI document) touches no database and no network; the runtime's
connections are opened by the lifespan.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, Depends, FastAPI

from cxinbox.admin.router import router as admin_router
from cxinbox.analytics.router import router as analytics_router
from cxinbox.api_docs import install_api_docs
from cxinbox.api_docs.openapi import install_openapi
from cxinbox.api_docs.tags import DESCRIPTION, TAGS
from cxinbox.api_keys.router import router as api_keys_router
from cxinbox.areas import register_areas
from cxinbox.auth.scopes import document_key_scopes
from cxinbox.billing.router import admin_router as stripe_prices_router
from cxinbox.billing.router import router as billing_router
from cxinbox.billing.router import webhook_router as stripe_webhook_router
from cxinbox.bot.conversations_router import router as bot_conversations_router
from cxinbox.bot.n8n_router import router as n8n_router
from cxinbox.bot.router import router as bot_config_router
from cxinbox.bot.writing_assist_router import config_router as writing_assist_config_router
from cxinbox.bot.writing_assist_router import profile_router as writing_assist_profile_router
from cxinbox.bot.writing_assist_router import router as writing_assist_router
from cxinbox.campaigns.router import router as campaigns_router
from cxinbox.config import Settings
from cxinbox.console.router import install_console
from cxinbox.contacts.router import router as contacts_router
from cxinbox.conversations.router import router as conversations_router
from cxinbox.core.admission import ToolCallGate
from cxinbox.core.http import (
    BodySizeLimitMiddleware,
    RequestContextMiddleware,
    install_error_handlers,
    route_patterns,
    upload_routes,
)
from cxinbox.core.logging import configure_logging
from cxinbox.core.routing_index import install_route_index
from cxinbox.core.validation import check_request_parts
from cxinbox.dev.router import router as dev_router
from cxinbox.files.router import router as files_router
from cxinbox.health.router import router as health_router
from cxinbox.invitations.router import router as invitations_router
from cxinbox.knowledge.data_sources_router import router as data_sources_router
from cxinbox.knowledge.media_router import router as bot_media_router
from cxinbox.knowledge.router import router as knowledge_router
from cxinbox.messages.failed_router import router as failed_messages_router
from cxinbox.messages.router import router as messages_router
from cxinbox.org_config.router import router as org_config_router
from cxinbox.plans.router import router as plans_router
from cxinbox.profile.router import router as profile_router
from cxinbox.quick_replies.router import router as quick_replies_router
from cxinbox.realtime.router import router as realtime_router
from cxinbox.routing.router import reroute_router
from cxinbox.routing.router import router as routing_router
from cxinbox.runtime import Runtime
from cxinbox.sign_in.router import router as sign_in_router
from cxinbox.sign_in.service import SuperAdminEmailTaken, ensure_super_admin
from cxinbox.studio.bundle_router import router as bot_bundle_router
from cxinbox.studio.feedback_router import router as bot_feedback_router
from cxinbox.studio.metrics_router import router as bot_metrics_router
from cxinbox.studio.router import router as bot_studio_router
from cxinbox.studio.shadow_router import router as bot_shadow_router
from cxinbox.studio.templates_router import admin_router as admin_bot_templates_router
from cxinbox.studio.templates_router import router as bot_templates_router
from cxinbox.tags.router import router as tags_router
from cxinbox.teams.router import router as teams_router
from cxinbox.templates.router import router as templates_router
from cxinbox.tools.router import CALLING_ENDPOINTS
from cxinbox.tools.router import ROUTERS as TOOLS_ROUTERS
from cxinbox.users.router import router as users_router
from cxinbox.whatsapp.alerts.router import router as whatsapp_alerts_router
from cxinbox.whatsapp.router import router as whatsapp_sign_in_router
from cxinbox.whatsapp.webhook_router import router as whatsapp_webhook_router

API_PREFIX = "/api/v1"
log = structlog.get_logger(__name__)

#: Routes are matched in this order (the first that matches a request wins), though a request tries
#: only those its path's leading segments may lead to (``core.routing_index``).
ROUTERS: tuple[APIRouter, ...] = (
    health_router,
    whatsapp_webhook_router,
    stripe_webhook_router,
    sign_in_router,
    api_keys_router,
    realtime_router,
    files_router,
    users_router,
    invitations_router,
    profile_router,
    teams_router,
    admin_router,
    stripe_prices_router,
    plans_router,
    billing_router,
    org_config_router,
    whatsapp_sign_in_router,
    whatsapp_alerts_router,
    messages_router,
    failed_messages_router,
    dev_router,
    conversations_router,
    contacts_router,
    tags_router,
    quick_replies_router,
    bot_metrics_router,
    bot_config_router,
    bot_studio_router,
    bot_bundle_router,
    bot_shadow_router,
    bot_templates_router,
    admin_bot_templates_router,
    bot_feedback_router,
    bot_conversations_router,
    writing_assist_config_router,
    writing_assist_profile_router,
    writing_assist_router,
    n8n_router,
    *TOOLS_ROUTERS,
    routing_router,
    reroute_router,
    knowledge_router,
    bot_media_router,
    data_sources_router,
    templates_router,
    campaigns_router,
    analytics_router,
)


def create_app(
    settings: Settings | None = None, *, runtime: Runtime | None = None, workers: bool = True
) -> FastAPI:
    settings = settings or (runtime.settings if runtime else Settings())
    register_areas()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # a runtime handed in (tests, several apps on one runtime) is started and stopped by its owner
        rt = runtime or Runtime(settings)
        app.state.runtime = rt
        if runtime is None:
            await rt.start(workers=workers)
        try:
            if settings.superadmin_email and settings.superadmin_password:
                await _ensure_configured_super_admin(rt, settings)
            _warn_about_production_settings(settings)
            log.info(
                "started",
                database=settings.database_url.split("://")[0],
                redis=bool(settings.redis_url),
                public_url=settings.public_url,
            )
            yield
        finally:
            if runtime is None:
                await rt.stop()

    title = "CX Inbox API"
    app = FastAPI(
        title=title,
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        dependencies=[Depends(check_request_parts)],
    )
    install_error_handlers(app)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_body=settings.max_json_body_bytes,
        max_upload=settings.max_upload_bytes,
        uploads=[pattern for router in ROUTERS for pattern in upload_routes(router.routes, API_PREFIX)],
    )
    app.add_middleware(
        ToolCallGate,
        routes=[pattern for router in ROUTERS for pattern in _tool_calling_routes(router)],
        admission=lambda scope: scope["app"].state.runtime.tool_call_requests,
        ahead=[pattern for router in ROUTERS for pattern in _webhook_routes(router)],
    )
    app.add_middleware(RequestContextMiddleware)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    install_console(app)  # the web console, at /
    install_api_docs(app, docs_url=f"{API_PREFIX}/docs", openapi_url=app.openapi_url or "", title=title)
    install_openapi(app)
    _document_key_scopes(app)
    install_route_index(app.router)
    return app


def _tool_calling_routes(router: APIRouter) -> list[tuple[re.Pattern[str], set[str]]]:
    return route_patterns(router.routes, API_PREFIX, lambda route: route.endpoint in CALLING_ENDPOINTS)


def _webhook_routes(router: APIRouter) -> list[tuple[re.Pattern[str], set[str]]]:
    """Webhook deliveries (``POST`` to a ``webhooks`` route): tool requests give way to them."""
    return route_patterns(
        router.routes, API_PREFIX, lambda route: "webhooks" in route.tags and "POST" in (route.methods or ())
    )


def _document_key_scopes(app: FastAPI) -> None:
    """The OpenAPI document names the scope an API key needs for each operation."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            routes = [route for router in ROUTERS for route in router.routes]
            document_key_scopes(generate(), routes, API_PREFIX)
        return generate()

    app.openapi = openapi  # type: ignore[method-assign]


async def _ensure_configured_super_admin(runtime: Runtime, settings: Settings) -> None:
    """A super admin email that belongs to an organization's user, or that is no address anyone can
    sign in with, is a configuration error, but outside production not one worth refusing to serve
    every organization for: it is logged and the API starts without that super admin (production
    refuses to start with an invalid one, see ``Settings``)."""
    email, password = settings.superadmin_email or "", settings.superadmin_password or ""
    if problem := settings.superadmin_email_problem:
        log.error("superadmin_not_created", setting="CXINBOX_SUPERADMIN_EMAIL", reason=problem)
        return
    try:
        async with runtime.unit_of_work() as session:
            await ensure_super_admin(session, runtime, email, password)
    except SuperAdminEmailTaken as exc:
        log.error("superadmin_not_created", setting="CXINBOX_SUPERADMIN_EMAIL", reason=exc.message)


def _warn_about_production_settings(settings: Settings) -> None:
    """What production allows only because it was asked for explicitly."""
    if settings.env != "production":
        return
    if settings.dev_endpoints:
        log.warning("dev_endpoints_enabled", setting="CXINBOX_DEV_ENDPOINTS", paths="/api/v1/dev/simulate/*")
    if settings.mail_disabled:
        log.warning(
            "mail_disabled", setting="CXINBOX_MAIL_DISABLED", effect="no sign-in codes or invitations"
        )


def create_app_from_env() -> FastAPI:
    """Entry point for ``uvicorn --factory cxinbox.app:create_app_from_env``."""
    settings = Settings()
    configure_logging(settings.log_level, json_output=bool(settings.log_json))
    return create_app(settings)
