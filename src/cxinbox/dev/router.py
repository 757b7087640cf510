"""``/dev/simulate/*`` (admins; 404 unless ``DEV_ENDPOINTS`` is on, which it is outside production)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from cxinbox.auth.dependencies import AdminDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.errors import NotFound
from cxinbox.core.wire import Envelope
from cxinbox.dev import service
from cxinbox.dev.schemas import (
    CleanupResult,
    SimulateBatch,
    SimulateConversation,
    Simulated,
    SimulatedBatch,
    SimulateMessage,
    SimulateTemplateStatus,
    TemplateEventOut,
)


async def dev_endpoints_enabled(runtime: RuntimeDep) -> None:
    if not runtime.settings.dev_endpoints:
        raise NotFound("Not found")


router = APIRouter(
    prefix="/dev/simulate",
    tags=["development"],
    dependencies=[Depends(dev_endpoints_enabled), key_scope(Area.CONVERSATIONS)],
)
NO_ACCOUNT: dict[int | str, dict[str, Any]] = {
    409: {"description": "NO_WHATSAPP_ACCOUNT: the organization has no connected number"}
}


@router.post(
    "/conversation",
    summary="Simulate a single incoming conversation via webhook pipeline",
    status_code=201,
    response_model=Envelope[Simulated],
    responses=NO_ACCOUNT,
)
async def simulate_conversation(
    principal: AdminDep, session: SessionDep, runtime: RuntimeDep, body: SimulateConversation | None = None
) -> Envelope[Simulated]:
    return Envelope(
        data=await service.conversation(session, runtime, principal, body or SimulateConversation())
    )


@router.post(
    "/batch",
    summary="Simulate a batch of incoming conversations",
    status_code=201,
    response_model=Envelope[SimulatedBatch],
    responses=NO_ACCOUNT,
)
async def simulate_batch(
    principal: AdminDep, session: SessionDep, runtime: RuntimeDep, body: SimulateBatch | None = None
) -> Envelope[SimulatedBatch]:
    return Envelope(data=await service.batch(session, runtime, principal, body or SimulateBatch()))


@router.post(
    "/message",
    summary="Simulate an incoming message on an existing conversation",
    status_code=201,
    response_model=Envelope[Simulated],
)
async def simulate_message(
    body: SimulateMessage, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[Simulated]:
    return Envelope(data=await service.message(session, runtime, principal, body))


@router.delete(
    "/cleanup",
    summary="Delete all simulated conversations and messages",
    response_model=Envelope[CleanupResult],
)
async def cleanup(principal: AdminDep, session: SessionDep) -> Envelope[CleanupResult]:
    return Envelope(data=await service.cleanup(session, principal))


@router.post(
    "/template-status",
    summary="Simulate a template status update webhook from Meta",
    status_code=201,
    response_model=Envelope[TemplateEventOut],
    responses=NO_ACCOUNT,
)
async def simulate_template_status(
    body: SimulateTemplateStatus, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[TemplateEventOut]:
    return Envelope(data=await service.template_status(session, runtime, principal, body))
