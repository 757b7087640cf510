from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile, status
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import AdminDep, MemberDep, ReadSessionDep, RuntimeDep, SessionDep
from cxinbox.auth.principal import Principal
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.bulk import BulkResult
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.models.identity import Role
from cxinbox.quick_replies import bulk, service
from cxinbox.quick_replies.schemas import BulkQuickReplies, CreateQuickReply, QuickReplyOut, UpdateQuickReply
from cxinbox.runtime import Runtime

router = APIRouter(
    prefix="/quick-replies", tags=["quick-replies"], dependencies=[key_scope(Area.QUICK_REPLIES)]
)

_ADMIN = "Admins only (403 otherwise)."
#: who edits quick replies: an admin, written to the audit log with their address
EditorDep = Annotated[Actor, Depends(acting_as(Role.ADMIN))]
ConversationParam = Annotated[
    str | None,
    Query(
        alias="conversationId",
        max_length=36,
        description="Fill each reply's variables for this conversation (`renderedContent`); one the "
        "caller cannot see answers 404",
    ),
]


async def _listing(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    *,
    active_only: bool,
    conversation_id: str | None,
) -> Envelope[list[QuickReplyOut]]:
    replies, values = await service.list_quick_replies(
        session, principal, active_only=active_only, conversation_id=conversation_id
    )
    return Envelope(data=[service.present(runtime, r, values) for r in replies])


@router.get(
    "",
    summary="List active quick replies (all agents)",
    description="By shortcut. With `conversationId`, `renderedContent` is the content with its "
    "variables (`{{contact.name}}`, `{{agent.name}}`, …) filled for that conversation and the caller.",
)
async def list_active(
    principal: MemberDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    conversation_id: ConversationParam = None,
) -> Envelope[list[QuickReplyOut]]:
    return await _listing(session, runtime, principal, active_only=True, conversation_id=conversation_id)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a quick reply (admin only)",
    description=f"`{{title, shortcut, content}}` (+ `category`, `isActive`). The shortcut is unique "
    f"within the organization (409 SHORTCUT_TAKEN). {_ADMIN}",
)
async def create(
    body: CreateQuickReply, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[QuickReplyOut]:
    reply = await service.create_quick_reply(session, runtime, editor, body)
    return Envelope(data=service.present(runtime, reply))


@router.get(
    "/all",
    summary="List all quick replies including inactive (admin only)",
    description=f"By shortcut; `conversationId` as for the active list. {_ADMIN}",
)
async def list_all(
    principal: AdminDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    conversation_id: ConversationParam = None,
) -> Envelope[list[QuickReplyOut]]:
    return await _listing(session, runtime, principal, active_only=False, conversation_id=conversation_id)


@router.post(
    "/bulk",
    summary="Bulk actions on quick replies (admin only)",
    description="Actions `delete`, `activate`, `deactivate`; `selection.filter` takes `isActive`, "
    f"`category`, `search`. {_ADMIN}",
)
async def bulk_action(
    body: BulkQuickReplies, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[BulkResult]:
    return Envelope(data=await bulk.run(session, runtime, editor, body))


@router.patch(
    "/{id}", summary="Update a quick reply (admin only)", description=f"Only the fields sent. {_ADMIN}"
)
async def update(
    id: str, body: UpdateQuickReply, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[QuickReplyOut]:
    reply = await service.update_quick_reply(session, runtime, editor, id, body)
    return Envelope(data=service.present(runtime, reply))


@router.delete("/{id}", summary="Delete a quick reply (admin only)", description=_ADMIN)
async def delete(id: str, editor: EditorDep, session: SessionDep, runtime: RuntimeDep) -> Envelope[Deleted]:
    await service.delete_quick_reply(session, runtime, editor, id)
    return Envelope(data=Deleted(id=id))


@router.post(
    "/{id}/media",
    summary="Upload media attachment for a quick reply (admin only)",
    description=f"Multipart field `file`: an image, video, audio or document, recognised by its "
    f"content (415 otherwise), at most {service.MAX_MEDIA_BYTES // (1024 * 1024)} MiB (413). "
    f"Replaces any previous attachment. {_ADMIN}",
    responses={413: {"description": "Too large"}, 415: {"description": "Not a supported file"}},
)
async def attach_media(
    id: str,
    file: Annotated[UploadFile, File(description="The attachment")],
    editor: EditorDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> Envelope[QuickReplyOut]:
    data = await file.read(service.MAX_MEDIA_BYTES + 1)
    reply = await service.attach_media(session, runtime, editor, id, data, file.filename)
    return Envelope(data=service.present(runtime, reply))


@router.delete("/{id}/media", summary="Remove media from a quick reply (admin only)", description=_ADMIN)
async def detach_media(
    id: str, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[QuickReplyOut]:
    reply = await service.detach_media(session, runtime, editor, id)
    return Envelope(data=service.present(runtime, reply))
