"""``/messages/failed…`` and ``/messages/{id}/retry-send|discard``: the failed-messages queue (admins)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from cxinbox.auth.dependencies import AdminDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.bulk import BulkResult
from cxinbox.core.pagination import PageParams, page_size_params
from cxinbox.core.wire import Envelope, PageSizeEnvelope
from cxinbox.messages import failed
from cxinbox.messages.failed import FailedFilter
from cxinbox.messages.schemas import BulkMessages, FailedMessageOut, FailedStats

router = APIRouter(tags=["failed messages"], dependencies=[key_scope(Area.CONVERSATIONS)])


async def failed_filter(
    status: Annotated[Literal["FAILED", "PENDING"] | None, Query()] = None,
    permanent: Annotated[bool | None, Query()] = None,
    template_name: Annotated[str | None, Query(alias="templateName", max_length=512)] = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> FailedFilter:
    return FailedFilter(status=status, permanent=permanent, template_name=template_name, search=search)


@router.get(
    "/messages/failed",
    summary="List failed outbound messages (admin only)",
    response_model=PageSizeEnvelope[FailedMessageOut],
)
async def list_failed(
    principal: AdminDep,
    session: SessionDep,
    runtime: RuntimeDep,
    criteria: Annotated[FailedFilter, Depends(failed_filter)],
    page: Annotated[PageParams, Depends(page_size_params)],
) -> PageSizeEnvelope[FailedMessageOut]:
    rows, total = await failed.list_failed(session, runtime, principal.tenant, criteria, page)
    return PageSizeEnvelope(data=rows, meta=page.size_meta(total))


@router.get(
    "/messages/failed/stats",
    summary="Get failed message statistics (admin only)",
    response_model=Envelope[FailedStats],
)
async def failed_stats(principal: AdminDep, session: SessionDep) -> Envelope[FailedStats]:
    return Envelope(data=await failed.stats(session, principal.tenant))


@router.post(
    "/messages/failed/bulk-retry",
    summary="Retry multiple failed messages (admin only)",
    description="Each message is retried as `POST /messages/{id}/retry-send` does; the ones that "
    "cannot be (still on their way, discarded, …) are listed in `failed` with the same codes.",
    response_model=Envelope[BulkResult],
)
async def bulk_retry(
    body: BulkMessages, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BulkResult]:
    result = await failed.bulk(session, runtime, principal.tenant, body, failed.retry, "retry")
    return Envelope(data=result)


@router.post(
    "/messages/failed/bulk-discard",
    summary="Discard multiple failed messages (admin only)",
    response_model=Envelope[BulkResult],
)
async def bulk_discard(
    body: BulkMessages, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BulkResult]:
    result = await failed.bulk(session, runtime, principal.tenant, body, failed.discard, "discard")
    return Envelope(data=result)


@router.post(
    "/messages/{id}/retry-send",
    summary="Retry sending a failed message (admin only)",
    description="Sends a FAILED message again at once, with a fresh budget of automatic retries: it "
    "becomes PENDING with no error and no WhatsApp id, and a `message.updated` event follows. "
    "A message still on its way (PENDING, also while it waits for an automatic retry) is left as it "
    "is and answers 409 `MESSAGE_NOT_FAILED` (use `discard` to stop its retries). A discarded message "
    "is final: 409 `MESSAGE_DISCARDED`. A free-form message outside the 24-hour window answers 409 "
    "`WINDOW_CLOSED`, and one whose number cannot send 409 `ACCOUNT_DISCONNECTED`, "
    "`ACCOUNT_DISABLED` or `ACCOUNT_DELETED`.",
    response_model=Envelope[FailedMessageOut],
    responses={
        409: {
            "description": "MESSAGE_NOT_FAILED, MESSAGE_DISCARDED, WINDOW_CLOSED, or the number "
            "cannot send (ACCOUNT_DISCONNECTED, ACCOUNT_DISABLED, ACCOUNT_DELETED)"
        }
    },
)
async def retry_send(
    id: str, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[FailedMessageOut]:
    row = await failed.retry(session, runtime, principal.tenant, id)
    return Envelope(data=failed.failed_out(runtime, row))


@router.post(
    "/messages/{id}/discard",
    summary="Mark a failed message as permanently discarded (admin only)",
    description="The message leaves the failed queue for good and can no longer be retried; one "
    "waiting for an automatic retry stops and becomes FAILED. Discarding again changes nothing.",
    response_model=Envelope[FailedMessageOut],
    responses={409: {"description": "MESSAGE_NOT_FAILED"}},
)
async def discard(
    id: str, principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[FailedMessageOut]:
    row = await failed.discard(session, runtime, principal.tenant, id)
    return Envelope(data=failed.failed_out(runtime, row))
