from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import JSONResponse, Response

from cxinbox.audit.request import Actor, acting_as
from cxinbox.auth.dependencies import MemberDep, ReadSessionDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.core.bulk import BulkResult
from cxinbox.core.validation import Id
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.messages.router import SEND_RESPONSES, IdempotencyKey
from cxinbox.messages.schemas import MessageOut
from cxinbox.models.identity import Role
from cxinbox.models.templates import TemplateCategory, TemplateStatus
from cxinbox.templates import bulk, media, sending, service
from cxinbox.templates.audit import audited
from cxinbox.templates.schemas import (
    BulkTemplates,
    CreateTemplate,
    DraftTemplate,
    EditTemplate,
    SendTemplate,
    SendTemplateToPhone,
    SyncResult,
    SyncTemplates,
    TemplateFilter,
    TemplateOut,
    UploadedMedia,
)
from cxinbox.templates.serializers import template_out
from cxinbox.templates.sync import sync

router = APIRouter(prefix="/templates", tags=["templates"], dependencies=[key_scope(Area.TEMPLATES)])
#: who manages templates: an admin, written to the audit log with their address
EditorDep = Annotated[Actor, Depends(acting_as(Role.ADMIN))]

_ADMIN = "Admins only (403 otherwise)."
_META = (
    "Meta's refusals: 409 `TEMPLATE_NAME_TAKEN`, 400 `TEMPLATE_REJECTED_BY_META` (with Meta's own "
    "message in `details.metaMessage`), 409 `WHATSAPP_TOKEN_INVALID`, 503 `GRAPH_UNAVAILABLE`."
)


@router.get(
    "/{id}/header-media",
    summary="Serve template header media file (image/video/document)",
    description="Public (WhatsApp fetches it when a template is sent by link): the id is the random "
    "`mediaId` from `upload-media`; any other id is 404.",
    response_class=Response,
)
async def header_media(id: str, session: ReadSessionDep, runtime: RuntimeDep) -> Response:
    data, content_type = await media.served(session, runtime, id)
    return Response(
        data,
        media_type=content_type,
        # a file any admin uploaded, served on the API's origin: never run as a page
        headers={
            "Cache-Control": "public, max-age=86400",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


@router.get(
    "",
    summary="List approved WhatsApp templates",
    description="APPROVED templates by name (what a picker needs); `status` (admins and supervisors) "
    "lists the others.",
)
async def list_templates(
    principal: MemberDep,
    session: ReadSessionDep,
    status_: Annotated[
        Literal["all"] | TemplateStatus | None,
        Query(alias="status", description="Addition: `all` (every status but REMOVED) or one status"),
    ] = None,
    category: Annotated[TemplateCategory | None, Query(description="Addition: one category")] = None,
    search: Annotated[str | None, Query(max_length=200, description="Addition: part of the name")] = None,
    whatsapp_account_id: Annotated[
        Id | None, Query(alias="whatsappAccountId", description="Addition: one WhatsApp account's")
    ] = None,
) -> Envelope[list[TemplateOut]]:
    criteria = TemplateFilter(
        status=status_, category=category, search=search, whatsapp_account_id=whatsapp_account_id
    )
    templates = await service.list_templates(session, principal, criteria)
    return Envelope(data=[template_out(t) for t in templates])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a WhatsApp template and submit to Meta for approval",
    description=f"`{{name, language, category, components, whatsappAccountId?}}` in Meta's component "
    f"format, checked here first (400 naming the part). Answers the template with Meta's status. {_META} "
    f"{_ADMIN}",
)
async def create(
    body: CreateTemplate, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[TemplateOut]:
    template = await service.create_and_submit(session, runtime, editor.principal, body)
    audited(session, editor, "template.created", template)
    return Envelope(data=template_out(template))


@router.post(
    "/draft",
    status_code=status.HTTP_201_CREATED,
    summary="Save a template locally as DRAFT without submitting to Meta",
    description=f"Kept as written; checked when submitted. {_ADMIN}",
)
async def save_draft(body: DraftTemplate, editor: EditorDep, session: SessionDep) -> Envelope[TemplateOut]:
    template = await service.save_draft(session, editor.principal, body)
    audited(session, editor, "template.created", template)
    return Envelope(data=template_out(template))


@router.post(
    "/upload-media",
    summary="Upload media for template header (returns file handle for Meta)",
    description=f"Multipart `file`: JPEG or PNG (5 MB), MP4 (16 MB) or PDF (100 MB), recognised by its "
    f"bytes (415 otherwise, 413 when too large); optional `whatsappAccountId`. Sent to Meta's "
    f"Resumable Upload API; 503 `META_APP_NOT_CONFIGURED` without `CXINBOX_META_APP_ID`. {_ADMIN}",
)
async def upload_media(
    file: Annotated[UploadFile, File(description="The header file")],
    editor: EditorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    whatsapp_account_id: Annotated[Id | None, Form(alias="whatsappAccountId")] = None,
) -> Envelope[UploadedMedia]:
    data = await file.read(media.MAX_BYTES + 1)
    uploaded = await media.upload(
        session, runtime, editor.principal, data, file.filename, whatsapp_account_id
    )
    details = {"mediaId": uploaded.media_id, "size": len(data)}
    editor.record(
        session, "template.media_uploaded", target_type="template_media", target_id=None, details=details
    )
    return Envelope(data=uploaded)


@router.post(
    "/sync",
    summary="Sync templates from WhatsApp Business API",
    description=f"Every template Meta has for the organization's accounts (or `whatsappAccountId`), "
    f"every page; upserted by Meta's id, and those Meta no longer has become REMOVED. {_ADMIN}",
)
async def sync_templates(
    editor: EditorDep, session: SessionDep, runtime: RuntimeDep, body: SyncTemplates | None = None
) -> Envelope[SyncResult]:
    account_id = body.whatsapp_account_id if body else None
    result = await sync(session, runtime, editor.principal, account_id)
    editor.record(
        session, "template.synced", target_type="template", target_id=None, details=result.model_dump()
    )
    return Envelope(data=result)


@router.post(
    "/bulk", summary="Bulk actions on templates (admin only)", description=f"Action `delete`. {_ADMIN}"
)
async def bulk_action(body: BulkTemplates, editor: EditorDep, session: SessionDep) -> Envelope[BulkResult]:
    return Envelope(data=await bulk.run(session, editor, body))


@router.put(
    "/{id}/draft",
    summary="Update a DRAFT template locally",
    description=f"Same body as the draft; 409 `TEMPLATE_NOT_DRAFT` for any other status. {_ADMIN}",
)
async def update_draft(
    id: str, body: DraftTemplate, editor: EditorDep, session: SessionDep
) -> Envelope[TemplateOut]:
    template = await service.update_draft(session, editor.principal, id, body)
    audited(session, editor, "template.draft_updated", template)
    return Envelope(data=template_out(template))


@router.post(
    "/{id}/submit",
    summary="Submit a DRAFT template to Meta for approval",
    description=f"409 `TEMPLATE_NOT_DRAFT` for any other status. {_META} {_ADMIN}",
)
async def submit(
    id: str, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[TemplateOut]:
    template = await service.submit_draft(session, runtime, editor.principal, id)
    audited(session, editor, "template.submitted", template)
    return Envelope(data=template_out(template))


@router.delete("/{id}", summary="Soft-delete a template (mark as REMOVED)", description=_ADMIN)
async def delete(id: str, editor: EditorDep, session: SessionDep) -> Envelope[Deleted]:
    audited(session, editor, "template.removed", await service.delete_locally(session, editor.principal, id))
    return Envelope(data=Deleted(id=id))


@router.put(
    "/{id}",
    summary="Edit a template's components in Meta and update in DB",
    description=f"`{{components, category?}}`. Meta edits APPROVED, REJECTED and PAUSED templates (409 "
    f"`TEMPLATE_NOT_EDITABLE` otherwise, a DRAFT included), never an APPROVED one's category; the "
    f"template goes back into review (PENDING). Meta's edit limits answer 409 `TEMPLATE_EDIT_REFUSED` "
    f"with Meta's message. {_ADMIN}",
)
async def edit(
    id: str, body: EditTemplate, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[TemplateOut]:
    template = await service.edit_at_meta(session, runtime, editor.principal, id, body)
    audited(session, editor, "template.edited", template)
    return Envelope(data=template_out(template))


@router.post(
    "/{name}/send",
    status_code=status.HTTP_201_CREATED,
    summary="Send a template message to a conversation",
    response_model=Envelope[MessageOut],
    responses=SEND_RESPONSES,
    description="`{conversationId, language?, variables?: {header?, body[], buttons[]}}`: the APPROVED "
    "template of that name on the conversation's number (404 otherwise), in `language` or its only "
    "one. The values are checked against the template first (400). Sent also when the 24-hour window "
    "is closed. Answers the message (type `template`, its text rendered).",
)
async def send(
    name: str,
    body: SendTemplate,
    principal: MemberDep,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    answer = await sending.send_to_conversation(session, runtime, principal, name, body, idempotency_key)
    return answer.response()


@router.post(
    "/{name}/send-to-phone",
    status_code=status.HTTP_201_CREATED,
    summary="Send a template message to an arbitrary phone number (creates or reuses conversation)",
    response_model=Envelope[MessageOut],
    responses=SEND_RESPONSES,
    description="`{phone, whatsappAccountId?, language?, variables?}`: the contact's open conversation on "
    "the number, or a new one (origin OUTBOUND, WAITING_FOR_CUSTOMER, assigned to the sender).",
)
async def send_to_phone(
    name: str,
    body: SendTemplateToPhone,
    principal: MemberDep,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    answer = await sending.send_to_phone(session, runtime, principal, name, body, idempotency_key)
    return answer.response()


@router.post(
    "/{id}/duplicate",
    status_code=status.HTTP_201_CREATED,
    summary="Duplicate a template as a DRAFT",
    description=f"Named `<name>_copy` (or `_copy_2`, …). {_ADMIN}",
)
async def duplicate(id: str, editor: EditorDep, session: SessionDep) -> Envelope[TemplateOut]:
    template = await service.duplicate(session, editor.principal, id)
    audited(session, editor, "template.created", template, duplicateOf=id)
    return Envelope(data=template_out(template))


@router.delete(
    "/{id}/meta",
    summary="Delete template from Meta and mark as REMOVED in DB",
    description=f"This language only (Meta's `name` and `hsm_id`); 409 `TEMPLATE_NOT_AT_META` for a "
    f"template never submitted. {_ADMIN}",
)
async def delete_at_meta(
    id: str, editor: EditorDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[Deleted]:
    template = await service.delete_at_meta(session, runtime, editor.principal, id)
    audited(session, editor, "template.deleted_at_meta", template)
    return Envelope(data=Deleted(id=id))
