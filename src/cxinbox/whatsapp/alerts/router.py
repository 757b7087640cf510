"""``/whatsapp-accounts/alerts``: what Meta reported about the organization's numbers and accounts.

ADMIN and SUPERVISOR read and acknowledge alerts; an AGENT is refused (403), and its event stream
leaves alert events out.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from cxinbox.auth.dependencies import SessionDep, SupervisorDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.pagination import MAX_LIMIT
from cxinbox.core.wire import CursorEnvelope, Envelope
from cxinbox.models.whatsapp import AlertSeverity
from cxinbox.whatsapp.alerts import service
from cxinbox.whatsapp.alerts.events import alert_out
from cxinbox.whatsapp.alerts.repository import AlertFilters
from cxinbox.whatsapp.alerts.schemas import AcknowledgedAll, AlertOut, UnreadCount

router = APIRouter(
    prefix="/whatsapp-accounts/alerts", tags=["whatsapp-accounts"], dependencies=[key_scope(Area.WHATSAPP)]
)

ROLES = "ADMIN and SUPERVISOR; an AGENT gets 403."


@router.get(
    "",
    summary="List account alerts for the current organization",
    description=f"Newest first, cursor-paginated (`meta.nextCursor`, `meta.hasMore`). {ROLES}",
)
async def list_alerts(
    principal: SupervisorDep,
    session: SessionDep,
    acknowledged: Annotated[
        Literal["true", "false"] | None,
        Query(description="Only acknowledged (true) or unread (false) alerts"),
    ] = None,
    severity: Annotated[AlertSeverity | None, Query(description="Only alerts of this severity")] = None,
    type: Annotated[str | None, Query(max_length=64, description="Only alerts of this type")] = None,
    account_id: Annotated[
        str | None,
        Query(alias="accountId", max_length=36, description="Only alerts of this WhatsApp account"),
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`meta.nextCursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Alerts per page")] = 20,
) -> CursorEnvelope[AlertOut]:
    filters = AlertFilters(
        acknowledged=None if acknowledged is None else acknowledged == "true",
        severity=severity,
        type=type,
        account_id=account_id,
    )
    alerts, meta = await service.list_alerts(session, principal.tenant, filters, cursor, limit)
    return CursorEnvelope(data=[alert_out(a) for a in alerts], meta=meta)


@router.get("/unread-count", summary="Count unacknowledged alerts", description=ROLES)
async def unread_count(principal: SupervisorDep, session: SessionDep) -> Envelope[UnreadCount]:
    return Envelope(data=await service.unread_count(session, principal.tenant))


@router.post(
    "/acknowledge-all",
    summary="Mark all alerts as acknowledged",
    description=f"Answers how many alerts this call acknowledged (0 when none was unread). {ROLES}",
)
async def acknowledge_all(principal: SupervisorDep, session: SessionDep) -> Envelope[AcknowledgedAll]:
    return Envelope(data=AcknowledgedAll(acknowledged=await service.acknowledge_all(session, principal)))


@router.post(
    "/{id}/acknowledge",
    summary="Mark an alert as acknowledged",
    description=f"Idempotent: an alert acknowledged before keeps who acknowledged it and when. {ROLES}",
)
async def acknowledge(id: str, principal: SupervisorDep, session: SessionDep) -> Envelope[AlertOut]:
    return Envelope(data=alert_out(await service.acknowledge(session, principal, id)))
