from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import MemberDep, ReadSessionDep, SessionDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.conversations.schemas import ConversationOut
from cxinbox.conversations.serializers import conversation_out
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.models.identity import Role
from cxinbox.tags import service
from cxinbox.tags.palette import PALETTE
from cxinbox.tags.schemas import CreateTag, TagColor, TagConversation, TagOut, UpdateTag

router = APIRouter(tags=["tags"], dependencies=[key_scope(Area.TAGS)])

_MANAGERS = "Admins and supervisors (an agent gets 403)."
#: who manages tags: an admin or a supervisor, written to the audit log with their address
ManagerDep = Annotated[Actor, Depends(acting_as(Role.ADMIN, Role.SUPERVISOR))]


@router.get("/tags", summary="List all tags for the organization", description="Alphabetical.")
async def list_tags(principal: MemberDep, session: ReadSessionDep) -> Envelope[list[TagOut]]:
    tags = await service.list_tags(session, principal.tenant)
    return Envelope(data=[TagOut.model_validate(t) for t in tags])


@router.post(
    "/tags",
    status_code=status.HTTP_201_CREATED,
    summary="Create a new tag",
    description=f"`{{name, color?}}`: the name is unique within the organization ignoring case (409 "
    f"TAG_NAME_TAKEN); the color is one of `GET /tags/colors` (gray when left out). {_MANAGERS}",
)
async def create_tag(body: CreateTag, manager: ManagerDep, session: SessionDep) -> Envelope[TagOut]:
    return Envelope(data=TagOut.model_validate(await service.create_tag(session, manager, body)))


@router.get("/tags/colors", summary="Get available tag color palette")
async def colors(principal: MemberDep) -> Envelope[list[TagColor]]:
    return Envelope(data=[TagColor(name=name, value=value) for name, value in PALETTE.items()])


@router.put(
    "/tags/{id}", summary="Update a tag", description=f"`{{name?, color?}}`: only what is sent. {_MANAGERS}"
)
async def update_tag(id: str, body: UpdateTag, manager: ManagerDep, session: SessionDep) -> Envelope[TagOut]:
    return Envelope(data=TagOut.model_validate(await service.update_tag(session, manager, id, body)))


@router.delete(
    "/tags/{id}", summary="Delete a tag (cascade removes from conversations)", description=_MANAGERS
)
async def delete_tag(id: str, manager: ManagerDep, session: SessionDep) -> Envelope[Deleted]:
    await service.delete_tag(session, manager, id)
    return Envelope(data=Deleted(id=id))


@router.post(
    "/conversations/{conversationId}/tags",
    dependencies=[key_scope(Area.CONVERSATIONS)],
    status_code=status.HTTP_201_CREATED,
    summary="Add a tag to a conversation",
    description="`{tagId}`; answers the conversation. Adding a tag it has changes nothing.",
)
async def tag_conversation(
    conversation_id: Annotated[str, Path(alias="conversationId")],
    body: TagConversation,
    principal: MemberDep,
    session: SessionDep,
) -> Envelope[ConversationOut]:
    conversation = await service.tag_conversation(session, principal, conversation_id, body.tag_id)
    return Envelope(data=conversation_out(conversation))


@router.delete(
    "/conversations/{conversationId}/tags/{tagId}",
    dependencies=[key_scope(Area.CONVERSATIONS)],
    summary="Remove a tag from a conversation",
    description="Answers the conversation.",
)
async def untag_conversation(
    conversation_id: Annotated[str, Path(alias="conversationId")],
    tag_id: Annotated[str, Path(alias="tagId")],
    principal: MemberDep,
    session: SessionDep,
) -> Envelope[ConversationOut]:
    conversation = await service.untag_conversation(session, principal, conversation_id, tag_id)
    return Envelope(data=conversation_out(conversation))
