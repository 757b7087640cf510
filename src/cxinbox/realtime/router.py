from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from sse_starlette import EventSourceResponse

from cxinbox.auth.credentials import principal_from_token
from cxinbox.auth.dependencies import (
    PrincipalDep,
    RuntimeDep,
    SessionDep,
    api_key_scheme,
    authorized_for_route,
    bearer_scheme,
    current_principal,
)
from cxinbox.auth.principal import Principal
from cxinbox.auth.scopes import Access, Area, key_scope
from cxinbox.auth.tokens import EVENTS
from cxinbox.core.validation import Position, parse_position
from cxinbox.core.wire import ApiModel, Envelope
from cxinbox.realtime import catalog, service
from cxinbox.realtime.standing import standing_of, while_standing
from cxinbox.realtime.visibility import predicate_for

#: the stream shows conversations and messages; its token opens that stream, so reading is enough
router = APIRouter(
    prefix="/events", tags=["events"], dependencies=[key_scope(Area.CONVERSATIONS, Access.READ)]
)


class EventsToken(ApiModel):
    token: str
    expires_in: int


async def _stream_principal(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
    token: Annotated[
        str | None, Query(description="Short-lived token from POST /events/token (for EventSource)")
    ] = None,
) -> Principal:
    if token and bearer is None and api_key is None:
        principal = await principal_from_token(session, runtime.tokens, token, kind=EVENTS)
        return authorized_for_route(principal, request)
    return await current_principal(request, bearer, api_key)


@router.post("/token", summary="Short-lived token for opening the event stream from a browser")
async def events_token(principal: PrincipalDep, runtime: RuntimeDep) -> Envelope[EventsToken]:
    token, ttl = service.stream_token(runtime, principal)
    return Envelope(data=EventsToken(token=token, expires_in=ttl))


@router.get(
    "",
    summary="Server-Sent Events of the caller's organization (resumable with Last-Event-ID)",
    description=(
        "Opens with the comment `: connected` once the listener is subscribed; every event committed "
        "after it is delivered. Idle streams carry `: ping` comments. With `Last-Event-ID` (or "
        "`lastEventId`) the events after that id are replayed first, in order, without duplicates. "
        "A listener that falls too far behind gets one `stream.reset` event (`data.reason`: `lagged`; "
        "`data.lastEventId` and its `id:` the position it reached) and the stream closes: reconnect "
        "with that `Last-Event-ID` to replay the rest. The listener's access is checked again at "
        "every heartbeat: once the user is deactivated or deleted, the organization suspended, the "
        "API key revoked or expired, or the role or teams changed, the stream ends the same way "
        "with `data.reason` `access_changed` (a reconnect gets the new rights' view, or 401/403).\n\n"
        + catalog.markdown_table()
    ),
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An SSE stream"}},
)
async def events(
    principal: Annotated[Principal, Depends(_stream_principal)],
    runtime: RuntimeDep,
    session: SessionDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id_query: Annotated[Position | None, Query(alias="lastEventId")] = None,
) -> EventSourceResponse:
    after = last_event_id_query
    if last_event_id:
        after = parse_position(last_event_id, "Last-Event-ID")
    tenant = principal.tenant
    visible = await predicate_for(session, principal)
    opened = await standing_of(session, principal)
    return EventSourceResponse(
        while_standing(
            runtime,
            principal,
            opened,
            lambda closing: service.stream(runtime, tenant.organization_id, after, visible, closing),
        ),
        ping=runtime.settings.sse_heartbeat_seconds,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
