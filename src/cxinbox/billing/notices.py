"""Mail to an organization's admins about its billing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.email import Mail
from cxinbox.mail.tasks import queue_mail
from cxinbox.models.identity import Role, User
from cxinbox.runtime import Runtime


def _amount(invoice: dict[str, Any]) -> str:
    cents = int(invoice.get("amount_due") or 0)
    return f"{cents / 100:.2f} {str(invoice.get('currency') or '').upper()}".strip()


async def payment_failed(
    session: AsyncSession, runtime: Runtime, organization_id: str, invoice: dict[str, Any]
) -> None:
    admins = await session.scalars(
        select(User.email).where(
            User.organization_id == organization_id,
            User.role == Role.ADMIN,
            User.is_active.is_(True),
            User.deleted_at.is_(None),
        )
    )
    link = invoice.get("hosted_invoice_url") or runtime.settings.public_url
    text = (
        f"The payment of {_amount(invoice)} for your CX Inbox subscription failed.\n\n"
        "Your plan stays as it is while Stripe retries the payment; if every retry fails the "
        "subscription ends and the organization moves to the FREE plan.\n\n"
        f"Update the payment method here: {link}\n"
    )
    for email in admins:
        await queue_mail(session, runtime, Mail(to=email, subject="CX Inbox: your payment failed", text=text))
