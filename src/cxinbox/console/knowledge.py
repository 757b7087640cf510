"""The knowledge page: the organization's documents with their status and, for admins, uploading
and deleting a document and a test search that shows the chunks the bot would be given (document
and page), through the services of ``/bot-config/documents`` and ``/bot-config/test-rag``."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from cxinbox.console.admin import actor, again, error_text, notice, perform, refused, text
from cxinbox.console.places import ADMIN, KNOWLEDGE
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.core.errors import AppError
from cxinbox.knowledge import service
from cxinbox.knowledge.schemas import TestRagRequest

router = APIRouter(include_in_schema=False)
#: what only an admin may do on the page
EDIT = replace(KNOWLEDGE, roles=ADMIN)
DONE = ("document_uploaded", "document_deleted")


async def _page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    async with visit.runtime.read_session() as session:
        documents = await service.list_documents(session, visit.runtime.settings, visit.member)
    context.setdefault("notice", notice(visit, DONE))
    return visit.page(
        "console/knowledge.html",
        status_code,
        documents=documents,
        editor=visit.member.has_role(*EDIT.roles),
        **context,
    )


@router.get(KNOWLEDGE.path, response_class=HTMLResponse)
async def knowledge_page(visit: MemberDep) -> Response:
    return refused(visit, KNOWLEDGE) or await _page(visit)


@router.post(KNOWLEDGE.path + "/documents", response_class=HTMLResponse)
async def upload(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, EDIT):
        return no
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await _page(visit, 400, error=visit.t("invalid_form"))
    data = await file.read(service.MAX_UPLOAD_BYTES + 1)
    title = text(form, "title", 200) or None
    editor, runtime, filename = actor(visit), visit.runtime, file.filename
    return await perform(
        visit,
        lambda s: service.upload(s, runtime, editor, data, filename, title),
        KNOWLEDGE.path,
        "document_uploaded",
        again(_page, visit),
    )


@router.post(KNOWLEDGE.path + "/documents/{id}/delete", response_class=HTMLResponse)
async def delete(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, EDIT):
        return no
    editor, runtime = actor(visit), visit.runtime
    return await perform(
        visit,
        lambda s: service.delete(s, runtime, editor, id),
        KNOWLEDGE.path,
        "document_deleted",
        again(_page, visit),
    )


@router.post(KNOWLEDGE.path + "/search", response_class=HTMLResponse)
async def search(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, EDIT):
        return no
    query = text(form, "query", 2001)
    try:
        body = TestRagRequest.model_validate({"query": query})
    except ValidationError:
        return await _page(visit, 400, error=visit.t("invalid_form"))
    try:
        async with visit.runtime.read_session() as session:
            answer = await service.test_rag(session, visit.runtime.settings, visit.member, body)
    except AppError as exc:
        return await _page(visit, exc.status_code, error=error_text(visit, exc))
    return await _page(visit, query=query, answer=answer)
