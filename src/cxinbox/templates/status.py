"""Statuses above DRAFT come from Meta only: its answer to a create, its webhooks
(``message_template_status_update``, ``message_template_quality_update``,
``template_category_update``, stored by the WhatsApp channel and folded in here as they arrive),
and a sync.

Meta's status words are kept raw in ``meta_status``; ``status`` names them (REINSTATED is APPROVED
again, DELETED is REMOVED) and a word not known here becomes UNKNOWN rather than being dropped.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.models.templates import MessageTemplate, QualityScore, TemplateCategory, TemplateStatus
from cxinbox.models.whatsapp import TemplateEvent, WhatsAppAccount
from cxinbox.templates.serializers import publish_template

_RENAMED = {"REINSTATED": TemplateStatus.APPROVED, "DELETED": TemplateStatus.REMOVED}
#: Meta's "no reason" in status webhooks
_NO_REASON = {"", "NONE"}


def status_from_meta(raw: Any) -> TemplateStatus:
    word = str(raw or "").strip().upper()
    if word in _RENAMED:
        return _RENAMED[word]
    try:
        status = TemplateStatus(word)
    except ValueError:
        return TemplateStatus.UNKNOWN
    return TemplateStatus.UNKNOWN if status in (TemplateStatus.DRAFT, TemplateStatus.REMOVED) else status


def category_from_meta(raw: Any) -> TemplateCategory | None:
    try:
        return TemplateCategory(str(raw or "").upper())
    except ValueError:
        return None


def quality_from_meta(raw: Any) -> QualityScore:
    try:
        return QualityScore(str(raw or "").upper())
    except ValueError:
        return QualityScore.UNKNOWN


def set_meta_status(template: MessageTemplate, raw: Any, reason: str | None = None) -> None:
    template.meta_status = str(raw)[:64] if raw else None
    template.status = status_from_meta(raw)
    if template.status is TemplateStatus.REJECTED:
        template.rejected_reason = reason
    elif template.status is TemplateStatus.APPROVED:
        template.rejected_reason = None


def _reason(value: dict[str, Any]) -> str | None:
    info = value.get("rejection_info")
    detail = info.get("reason") if isinstance(info, dict) else None
    reason = str(value.get("reason") or "")
    parts = [p for p in (reason if reason.upper() not in _NO_REASON else "", detail) if p]
    return " — ".join(str(p) for p in parts)[:2000] or None


def apply_change(template: MessageTemplate, field: str, value: dict[str, Any]) -> None:
    """A removed template stays removed here (a person deleted it; Meta may still have it), whatever
    status Meta reports next."""
    if field == "message_template_status_update" and template.status is TemplateStatus.REMOVED:
        template.meta_status = str(value.get("event") or "")[:64] or template.meta_status
    elif field == "message_template_status_update":
        set_meta_status(template, value.get("event"), _reason(value))
        if category := category_from_meta(value.get("message_template_category")):
            template.category = category
    elif field == "message_template_quality_update":
        template.quality_score = quality_from_meta(value.get("new_quality_score"))
    elif field == "template_category_update" and (
        category := category_from_meta(value.get("new_category") or value.get("correct_category"))
    ):
        template.category = category


async def fold_change(
    session: AsyncSession, organization_id: str, waba_id: str, field: str, value: dict[str, Any]
) -> None:
    """A webhook change, into the organization's template it names (by Meta's id, else by name and
    language on that business account); a template not known here yet waits for a sync."""
    meta_id = str(value.get("message_template_id") or "")
    stmt = select(MessageTemplate).where(MessageTemplate.organization_id == organization_id)
    template = None
    if meta_id:
        template = await session.scalar(stmt.where(MessageTemplate.meta_template_id == meta_id))
    if template is None and value.get("message_template_name"):
        accounts = select(WhatsAppAccount.id).where(
            WhatsAppAccount.organization_id == organization_id, WhatsAppAccount.waba_id == waba_id
        )
        template = await session.scalar(
            stmt.where(
                MessageTemplate.whatsapp_account_id.in_(accounts),
                MessageTemplate.name == str(value["message_template_name"]),
                MessageTemplate.language == str(value.get("message_template_language") or ""),
                MessageTemplate.status != TemplateStatus.DRAFT,
                MessageTemplate.status != TemplateStatus.REMOVED,
            )
        )
    if template is None:
        return
    apply_change(template, field, value)
    if meta_id and not template.meta_template_id:
        template.meta_template_id = meta_id
    await session.flush()
    publish_template(session, template)


async def catch_up(session: AsyncSession, template: MessageTemplate) -> None:
    """Apply the webhooks stored for the template before its Meta id was (a webhook can beat the
    create's own answer into the database)."""
    if not template.meta_template_id:
        return
    events = await session.scalars(
        select(TemplateEvent)
        .where(
            TemplateEvent.organization_id == template.organization_id,
            TemplateEvent.template_id == template.meta_template_id,
        )
        .order_by(TemplateEvent.created_at, TemplateEvent.position)
    )
    for event in events:
        apply_change(template, event.field, event.value)
