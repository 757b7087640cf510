"""A template's life: a local DRAFT, submitted to Meta (or created and submitted at once), edited at
Meta, duplicated as a new DRAFT, deleted here (REMOVED) or at Meta too.

Every call to Meta happens outside a database transaction (``release_transaction``): what is
written depends on Meta's answer, and Meta's refusals are clear 4xx answers (``templates.meta``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.whatsapp import GraphError
from cxinbox.auth.principal import Principal
from cxinbox.core.db import release_transaction
from cxinbox.core.errors import Conflict, Forbidden, ValidationFailed
from cxinbox.models.identity import Role
from cxinbox.models.templates import MessageTemplate, TemplateCategory, TemplateStatus
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.templates import components as parts
from cxinbox.templates.meta import graph_for
from cxinbox.templates.repository import TemplateRepository
from cxinbox.templates.schemas import CreateTemplate, DraftTemplate, EditTemplate, TemplateFilter
from cxinbox.templates.serializers import publish_template
from cxinbox.templates.status import catch_up, category_from_meta, set_meta_status
from cxinbox.whatsapp.repository import WhatsAppAccountRepository

#: what Meta lets be edited: an approved, rejected or paused template
EDITABLE = frozenset({TemplateStatus.APPROVED, TemplateStatus.REJECTED, TemplateStatus.PAUSED})


class TemplateNameTaken(Conflict):
    code = "TEMPLATE_NAME_TAKEN"
    message = "A template with this name and language exists on this WhatsApp account"


class TemplateNotDraft(Conflict):
    code = "TEMPLATE_NOT_DRAFT"
    message = "Only a DRAFT template can be changed locally or submitted"


class TemplateNotEditable(Conflict):
    code = "TEMPLATE_NOT_EDITABLE"
    message = (
        "Meta edits only APPROVED, REJECTED or PAUSED templates (a DRAFT is changed with PUT /{id}/draft)"
    )


class TemplateNotAtMeta(Conflict):
    code = "TEMPLATE_NOT_AT_META"
    message = "The template was never submitted to Meta"


async def account_for(session: AsyncSession, principal: Principal, account_id: str | None) -> WhatsAppAccount:
    """The account named (another organization's is 404), else the organization's only one."""
    repo = WhatsAppAccountRepository(session, principal.tenant)
    if account_id:
        return await repo.get_live_or_404(account_id)
    accounts = await repo.list_live()
    if len(accounts) == 1:
        return accounts[0]
    reason = "connect a WhatsApp account first" if not accounts else "name one: the organization has several"
    raise ValidationFailed.field("whatsappAccountId", reason)


async def list_templates(
    session: AsyncSession, principal: Principal, criteria: TemplateFilter
) -> Sequence[MessageTemplate]:
    if principal.role is Role.AGENT and criteria.status not in (None, TemplateStatus.APPROVED):
        raise Forbidden("Agents list APPROVED templates only")
    repo = TemplateRepository(session, principal.tenant)
    return await repo.list(repo.filtered(criteria))


async def save_draft(session: AsyncSession, principal: Principal, body: DraftTemplate) -> MessageTemplate:
    account = await account_for(session, principal, body.whatsapp_account_id)
    repo = TemplateRepository(session, principal.tenant)
    await _ensure_name_free(repo, account.id, body.name, body.language)
    template = repo.add(
        MessageTemplate(
            whatsapp_account_id=account.id,
            name=body.name,
            language=body.language,
            category=body.category,
            components=parts.normalized(body.components),
            status=TemplateStatus.DRAFT,
            created_by_id=principal.user_id,
        )
    )
    await repo.flush()
    publish_template(session, template, "template.created")
    return template


async def update_draft(
    session: AsyncSession, principal: Principal, template_id: str, body: DraftTemplate
) -> MessageTemplate:
    repo = TemplateRepository(session, principal.tenant)
    template = await repo.get_or_404(template_id)
    if template.status is not TemplateStatus.DRAFT:
        raise TemplateNotDraft()
    account = (
        await account_for(session, principal, body.whatsapp_account_id)
        if body.whatsapp_account_id
        else await session.get_one(WhatsAppAccount, template.whatsapp_account_id)
    )
    if (account.id, body.name, body.language) != (
        template.whatsapp_account_id,
        template.name,
        template.language,
    ):
        await _ensure_name_free(repo, account.id, body.name, body.language)
    template.whatsapp_account_id = account.id
    template.name, template.language, template.category = body.name, body.language, body.category
    template.components = parts.normalized(body.components)
    await repo.flush()
    publish_template(session, template)
    return template


async def create_and_submit(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: CreateTemplate
) -> MessageTemplate:
    checked = parts.check(body.components)
    account = await account_for(session, principal, body.whatsapp_account_id)
    repo = TemplateRepository(session, principal.tenant)
    await _ensure_name_free(repo, account.id, body.name, body.language)
    answer = await _submit(session, runtime, account, body.name, body.language, body.category, checked)
    template = repo.add(
        MessageTemplate(
            whatsapp_account_id=account.id,
            name=body.name,
            language=body.language,
            category=body.category,
            components=checked,
            created_by_id=principal.user_id,
        )
    )
    _take_answer(template, answer)
    await catch_up(session, template)
    await repo.flush()
    publish_template(session, template, "template.created")
    return template


async def submit_draft(
    session: AsyncSession, runtime: Runtime, principal: Principal, template_id: str
) -> MessageTemplate:
    template = await TemplateRepository(session, principal.tenant).get_or_404(template_id)
    if template.status is not TemplateStatus.DRAFT:
        raise TemplateNotDraft()
    checked = parts.check(template.components)
    account = await session.get_one(WhatsAppAccount, template.whatsapp_account_id)
    answer = await _submit(
        session, runtime, account, template.name, template.language, template.category, checked
    )
    template.components = checked
    _take_answer(template, answer)
    await catch_up(session, template)
    await session.flush()
    publish_template(session, template)
    return template


async def edit_at_meta(
    session: AsyncSession, runtime: Runtime, principal: Principal, template_id: str, body: EditTemplate
) -> MessageTemplate:
    """Meta's edit: new components (and a category, for a REJECTED or PAUSED template); the
    template goes back into review (PENDING)."""
    template = await TemplateRepository(session, principal.tenant).get_or_404(template_id)
    if template.status not in EDITABLE or not template.meta_template_id:
        raise TemplateNotEditable()
    if (
        body.category
        and body.category is not template.category
        and template.status is TemplateStatus.APPROVED
    ):
        raise TemplateNotEditable("Meta does not change the category of an APPROVED template")
    checked = parts.check(body.components)
    changes: dict[str, Any] = {"components": checked}
    if body.category and body.category is not template.category:
        changes["category"] = body.category.value
    account = await session.get_one(WhatsAppAccount, template.whatsapp_account_id)
    meta_id = template.meta_template_id
    await release_transaction(session)
    async with graph_for(runtime, account, editing=True) as graph:
        await graph.edit_template(meta_id, changes)
    template.components = checked
    if body.category:
        template.category = body.category
    set_meta_status(template, TemplateStatus.PENDING.value)
    await session.flush()
    publish_template(session, template)
    return template


async def remove(session: AsyncSession, template: MessageTemplate) -> None:
    """REMOVED here (Meta keeps it: ``DELETE /{id}/meta`` deletes it there)."""
    if template.status is not TemplateStatus.REMOVED:
        template.status = TemplateStatus.REMOVED
        await session.flush()
        publish_template(session, template)


async def delete_locally(session: AsyncSession, principal: Principal, template_id: str) -> MessageTemplate:
    template = await TemplateRepository(session, principal.tenant).get_or_404(template_id)
    await remove(session, template)
    return template


async def delete_at_meta(
    session: AsyncSession, runtime: Runtime, principal: Principal, template_id: str
) -> MessageTemplate:
    """``DELETE /{waba_id}/message_templates?name=…&hsm_id=…`` (this language only), then REMOVED;
    a template Meta no longer has is REMOVED too."""
    template = await TemplateRepository(session, principal.tenant).get_or_404(template_id)
    if not template.meta_template_id:
        raise TemplateNotAtMeta()
    account = await session.get_one(WhatsAppAccount, template.whatsapp_account_id)
    name, meta_id = template.name, template.meta_template_id
    await release_transaction(session)
    async with graph_for(runtime, account) as graph:
        try:
            await graph.delete_template(account.waba_id, name, meta_id)
        except GraphError as exc:
            if not (exc.code == 100 and exc.subcode == 33):
                raise
    await remove(session, template)
    return template


async def duplicate(session: AsyncSession, principal: Principal, template_id: str) -> MessageTemplate:
    """A DRAFT copy under a free name (``<name>_copy``, ``<name>_copy_2``, …)."""
    repo = TemplateRepository(session, principal.tenant)
    source = await repo.get_or_404(template_id)
    stem = f"{source.name[:500]}_copy"
    taken = await repo.names_like(source.whatsapp_account_id, stem)
    name = next(n for n in (stem, *(f"{stem}_{i}" for i in range(2, len(taken) + 3))) if n not in taken)
    copy = repo.add(
        MessageTemplate(
            whatsapp_account_id=source.whatsapp_account_id,
            name=name,
            language=source.language,
            category=source.category,
            components=source.components,
            status=TemplateStatus.DRAFT,
            created_by_id=principal.user_id,
        )
    )
    await repo.flush()
    publish_template(session, copy, "template.created")
    return copy


async def _ensure_name_free(repo: TemplateRepository, account_id: str, name: str, language: str) -> None:
    if await repo.live_named(account_id, name, language) is not None:
        raise TemplateNameTaken(details=[{"field": "name", "message": "already used for this language"}])


async def _submit(
    session: AsyncSession,
    runtime: Runtime,
    account: WhatsAppAccount,
    name: str,
    language: str,
    category: TemplateCategory,
    checked: list[dict[str, Any]],
) -> dict[str, Any]:
    request = {"name": name, "language": language, "category": category.value, "components": checked}
    await release_transaction(session)
    async with graph_for(runtime, account) as graph:
        return await graph.create_template(account.waba_id, request)


def _take_answer(template: MessageTemplate, answer: dict[str, Any]) -> None:
    """Meta's answer to a create: ``{id, status, category}`` (it may have changed the category)."""
    template.meta_template_id = str(answer["id"])[:64]
    set_meta_status(template, answer.get("status") or TemplateStatus.PENDING.value)
    if category := category_from_meta(answer.get("category")):
        template.category = category
