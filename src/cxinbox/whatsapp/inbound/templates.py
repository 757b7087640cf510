"""Template webhooks (status, category and quality changes), kept per organization for the
templates area. They name the business account (``entry.id``), not a phone number.

The templates area folds each change into its template as it is stored, in the same transaction,
through a listener it registers (``on_template_change``): the channel knows nothing of templates."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.db import dialect_insert
from cxinbox.core.ids import new_id
from cxinbox.models.whatsapp import AccountStatus, TemplateEvent, WebhookEvent, WhatsAppAccount

TEMPLATE_FIELDS = frozenset(
    {"message_template_status_update", "template_category_update", "message_template_quality_update"}
)


#: ``(session, organization_id, waba_id, field, value)``, called once per change newly stored
TemplateChangeListener = Callable[[AsyncSession, str, str, str, dict[str, Any]], Awaitable[None]]
_listeners: list[TemplateChangeListener] = []


def on_template_change(listener: TemplateChangeListener) -> None:
    """Call ``listener`` for every template change stored from now on (a replay is not stored
    twice, so it is not called twice)."""
    if listener not in _listeners:
        _listeners.append(listener)


def _event_of(value: dict[str, Any]) -> Any:
    return value.get("event") or value.get("new_category") or value.get("new_quality_score")


def _text(value: Any, length: int) -> str | None:
    return str(value)[:length] if value not in (None, "") else None


async def record_template_change(
    session: AsyncSession,
    event: WebhookEvent,
    waba_id: str,
    field: str,
    value: dict[str, Any],
    position: int,
    admits: Callable[[WhatsAppAccount], bool],
) -> None:
    """Store the change once for every organization with a number on ``waba_id`` that ``admits``
    lets it reach (the event's signature scope)."""
    accounts = await session.scalars(
        select(WhatsAppAccount).where(
            WhatsAppAccount.waba_id == waba_id, WhatsAppAccount.status != AccountStatus.DISCONNECTED
        )
    )
    insert = dialect_insert(session)
    for organization_id in sorted({a.organization_id for a in accounts if admits(a)}):
        stored = await session.scalar(
            insert(TemplateEvent)
            .values(
                id=new_id(),
                organization_id=organization_id,
                webhook_event_id=event.id,
                position=position,
                waba_id=waba_id,
                field=field,
                event=_text(_event_of(value), 64),
                template_id=_text(value.get("message_template_id"), 64),
                template_name=_text(value.get("message_template_name"), 512),
                language=_text(value.get("message_template_language"), 32),
                reason=_text(value.get("reason"), 2000),
                value=value,
                simulated=event.simulated,
            )
            .on_conflict_do_nothing()
            .returning(TemplateEvent.id)
        )
        if stored is not None:
            for listener in _listeners:
                await listener(session, organization_id, waba_id, field, value)
        event.organization_id = event.organization_id or organization_id
