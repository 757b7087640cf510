"""``POST /quick-replies/bulk``: delete, activate or deactivate quick replies chosen by ids or by
filter (``isActive``, ``category``, ``search``); ids that are not found are reported in ``failed``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.core.bulk import MAX_BULK_IDS, BulkFailure, BulkResult, select_items
from cxinbox.models.quick_replies import QuickReply
from cxinbox.quick_replies import service
from cxinbox.quick_replies.repository import QuickReplyRepository
from cxinbox.quick_replies.schemas import BulkQuickReplies, QuickReplyFilter
from cxinbox.runtime import Runtime


async def run(session: AsyncSession, runtime: Runtime, editor: Actor, body: BulkQuickReplies) -> BulkResult:
    ids, replies = await _select(session, editor.principal, body)
    result = BulkResult(action=body.action, requested=len(ids), succeeded=0)
    for reply_id in ids:
        reply = replies.get(reply_id)
        if reply is None:
            result.failed.append(BulkFailure(id=reply_id, code="NOT_FOUND", message="Quick reply not found"))
            continue
        if body.action == "delete":
            await service.remove(session, runtime, editor, reply)
        else:
            await service.set_active(session, runtime, editor, reply, body.action == "activate")
        result.succeeded += 1
        result.succeeded_ids.append(reply_id)
    return result


async def _select(
    session: AsyncSession, principal: Principal, body: BulkQuickReplies
) -> tuple[list[str], dict[str, QuickReply]]:
    repo = QuickReplyRepository(session, principal.tenant)

    async def by_filter(criteria: QuickReplyFilter) -> list[QuickReply]:
        return list(await repo.list(repo.filtered(criteria).limit(MAX_BULK_IDS)))

    return await select_items(
        body.selection, by_ids=repo.by_ids, filter_model=QuickReplyFilter, by_filter=by_filter
    )
