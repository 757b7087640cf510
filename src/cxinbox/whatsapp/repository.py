"""Queries of the channel's tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.errors import NotFound
from cxinbox.core.repository import TenantRepository
from cxinbox.models.inbox import Message
from cxinbox.models.whatsapp import AccountStatus, MetaAppConfig, WhatsAppAccount


class WhatsAppAccountRepository(TenantRepository[WhatsAppAccount]):
    model = WhatsAppAccount
    not_found_message = "WhatsApp account not found"

    def select_live(self) -> Select[WhatsAppAccount]:
        return self.select().where(WhatsAppAccount.status != AccountStatus.DISCONNECTED)

    async def get_live_or_404(self, account_id: str) -> WhatsAppAccount:
        account = await self.session.scalar(self.select_live().where(WhatsAppAccount.id == account_id))
        if account is None:
            raise NotFound(self.not_found_message)
        return account

    async def list_live(self) -> Sequence[WhatsAppAccount]:
        return await self.list(self.select_live().order_by(WhatsAppAccount.created_at, WhatsAppAccount.id))

    async def by_phone_number_id(self, phone_number_id: str) -> WhatsAppAccount | None:
        """The organization's own account for a number, connected or not (reconnecting reuses it)."""
        stmt = (
            self.select()
            .where(WhatsAppAccount.phone_number_id == phone_number_id)
            .order_by(WhatsAppAccount.created_at.desc())
            .limit(1)
        )
        return await self.session.scalar(stmt)


class MetaAppConfigRepository(TenantRepository[MetaAppConfig]):
    model = MetaAppConfig

    async def current(self) -> MetaAppConfig | None:
        return await self.session.scalar(self.select())


# --- cross-tenant: the webhook resolves the tenant from the number ----------------------------------

#: ids in one ``IN`` list at most (a statement takes a bounded number of parameters: PostgreSQL's
#: protocol 32,767)
IN_LIST_SIZE = 1_000


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    distinct = list(dict.fromkeys(ids))
    for start in range(0, len(distinct), IN_LIST_SIZE):
        yield distinct[start : start + IN_LIST_SIZE]


async def live_accounts_by_number(
    session: AsyncSession, phone_number_ids: Sequence[str]
) -> dict[str, WhatsAppAccount]:
    """The connected account of each number, whichever organization owns it."""
    found: dict[str, WhatsAppAccount] = {}
    for chunk in _chunks(phone_number_ids):
        rows = await session.scalars(
            select(WhatsAppAccount).where(
                WhatsAppAccount.phone_number_id.in_(chunk),
                WhatsAppAccount.status != AccountStatus.DISCONNECTED,
            )
        )
        found.update((account.phone_number_id, account) for account in rows)
    return found


async def count_live_accounts(session: AsyncSession, organization_id: str) -> int:
    stmt = select(func.count()).where(
        WhatsAppAccount.organization_id == organization_id,
        WhatsAppAccount.status != AccountStatus.DISCONNECTED,
    )
    return int(await session.scalar(stmt) or 0)


async def live_accounts_by_waba(session: AsyncSession, waba_ids: Sequence[str]) -> list[WhatsAppAccount]:
    """The connected accounts of these WhatsApp Business Accounts, whichever organizations own them,
    oldest first."""
    found: list[WhatsAppAccount] = []
    for chunk in _chunks(waba_ids):
        rows = await session.scalars(
            select(WhatsAppAccount).where(
                WhatsAppAccount.waba_id.in_(chunk),
                WhatsAppAccount.status != AccountStatus.DISCONNECTED,
            )
        )
        found += rows
    return sorted(found, key=lambda a: (a.created_at, a.id))


async def locked_message(session: AsyncSession, message_id: str) -> Message | None:
    """A message, re-read and locked for update (jobs change messages that webhooks change too)."""
    stmt = (
        select(Message)
        .where(Message.id == message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return await session.scalar(stmt)


async def locked_account(session: AsyncSession, account_id: str) -> WhatsAppAccount:
    """An account, re-read and locked for update (two workers may apply reports about one number)."""
    stmt = (
        select(WhatsAppAccount)
        .where(WhatsAppAccount.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one()
