"""``POST /templates/sync``: every template Meta has for the organization's business accounts (or
the one named), read page by page, upserted by Meta's id; a local template Meta no longer has
becomes REMOVED. A business account with several of the organization's numbers is read once.
``updated`` counts the templates whose fields changed; only changes are announced
(``template.updated``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.core.clock import utcnow
from cxinbox.core.db import release_transaction
from cxinbox.models.templates import MessageTemplate, TemplateCategory, TemplateStatus
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.templates.meta import graph_for
from cxinbox.templates.repository import TemplateRepository
from cxinbox.templates.schemas import SyncResult
from cxinbox.templates.serializers import publish_template
from cxinbox.templates.service import account_for
from cxinbox.templates.status import category_from_meta, quality_from_meta, set_meta_status
from cxinbox.whatsapp.repository import WhatsAppAccountRepository


async def sync(
    session: AsyncSession, runtime: Runtime, principal: Principal, account_id: str | None
) -> SyncResult:
    if account_id:
        accounts: Sequence[WhatsAppAccount] = [await account_for(session, principal, account_id)]
    else:
        accounts = await WhatsAppAccountRepository(session, principal.tenant).list_live()
    by_waba = {a.waba_id: a for a in reversed(accounts)}  # the oldest account of each business account
    await release_transaction(session)
    listed: dict[str, list[dict[str, Any]]] = {}
    for waba_id, account in by_waba.items():
        async with graph_for(runtime, account) as graph:
            listed[waba_id] = await graph.list_templates(waba_id)
    result = SyncResult(created=0, updated=0, removed=0)
    for waba_id, items in listed.items():
        await _apply(session, principal, by_waba[waba_id], items, result)
    return result


async def _apply(
    session: AsyncSession,
    principal: Principal,
    account: WhatsAppAccount,
    items: list[dict[str, Any]],
    result: SyncResult,
) -> None:
    repo = TemplateRepository(session, principal.tenant)
    same_waba = select(WhatsAppAccount.id).where(
        WhatsAppAccount.organization_id == account.organization_id, WhatsAppAccount.waba_id == account.waba_id
    )
    local = await repo.list(repo.select().where(MessageTemplate.whatsapp_account_id.in_(same_waba)))
    by_meta_id = {t.meta_template_id: t for t in local if t.meta_template_id}
    by_name = {
        (t.name, t.language): t
        for t in local
        if not t.meta_template_id and t.status is not TemplateStatus.REMOVED
    }
    now = utcnow()
    seen: set[str] = set()
    for item in items:
        meta_id, name, language = str(item.get("id") or ""), item.get("name"), item.get("language")
        category = category_from_meta(item.get("category"))
        if not meta_id or not isinstance(name, str) or not isinstance(language, str) or category is None:
            continue  # not a template this area can hold
        seen.add(meta_id)
        template = by_meta_id.get(meta_id) or by_name.get((name, language))
        if template is not None and template.status in (TemplateStatus.DRAFT, TemplateStatus.REMOVED):
            continue  # a local draft holds the name, or a person removed it here: it stays so
        before = None if template is None else _fields(template)
        if template is None:
            template = repo.add(
                MessageTemplate(whatsapp_account_id=account.id, name=name[:512], language=language[:32])
            )
        _take(template, meta_id, category, item)
        template.last_synced_at = now
        if before is None:
            result.created += 1
        elif before != _fields(template):
            result.updated += 1
        else:
            continue
        await session.flush()
        publish_template(session, template)
    for template in local:
        if (
            template.meta_template_id
            and template.meta_template_id not in seen
            and template.status is not TemplateStatus.REMOVED
        ):
            template.status = TemplateStatus.REMOVED
            template.last_synced_at = now
            result.removed += 1
            await session.flush()
            publish_template(session, template)


def _take(template: MessageTemplate, meta_id: str, category: TemplateCategory, item: dict[str, Any]) -> None:
    """Meta's view of the template, as ``GET /{waba_id}/message_templates`` gives it."""
    template.meta_template_id = meta_id[:64]
    template.category = category
    components = item.get("components")
    template.components = (
        [c for c in components if isinstance(c, dict)] if isinstance(components, list) else []
    )
    set_meta_status(template, item.get("status"), _text(item.get("rejected_reason")))
    quality = item.get("quality_score")
    template.quality_score = quality_from_meta(quality.get("score") if isinstance(quality, dict) else quality)


def _fields(template: MessageTemplate) -> tuple[Any, ...]:
    """What a sync may change (a template whose fields stay is not counted nor announced)."""
    return (
        template.meta_template_id,
        template.category,
        template.components,
        template.status,
        template.meta_status,
        template.rejected_reason,
        template.quality_score,
    )


def _text(value: Any) -> str | None:
    return str(value)[:2000] if value and str(value).upper() != "NONE" else None
