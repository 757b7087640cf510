"""The fields Meta reports about a number, kept to its newest report.

Meta's webhooks are not ordered (a retried delivery may arrive days late), so every reported field
keeps the time of the report that set it (``WhatsAppAccount.report_times``): Meta's clock for a
webhook, ours for a health check or a connection, which read the values from Meta at that moment.
A report older than the one a field holds leaves that field alone.

The account's state is one of those fields, with one more rule: a report moves it only between the
states of ``STATUS_MOVES`` (a ban stops a number that could send; its lifting restarts only a banned
number; a deleted account comes back only by connecting its number again).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.wire import iso_utc
from cxinbox.models.whatsapp import AccountStatus, WhatsAppAccount
from cxinbox.whatsapp.repository import locked_account

#: the quality fields the Graph API answers for a number (a health check reads them all at once)
QUALITY_FIELDS = ("verified_name", "quality_rating", "messaging_limit_tier", "name_status")
STATUS = "status"

#: the state one of Meta's reports moves an account to -> the states it may move it from
STATUS_MOVES: dict[AccountStatus, frozenset[AccountStatus]] = {
    AccountStatus.DISABLED: frozenset({AccountStatus.CONNECTED, AccountStatus.TOKEN_INVALID}),
    AccountStatus.DELETED: frozenset(
        {AccountStatus.CONNECTED, AccountStatus.TOKEN_INVALID, AccountStatus.DISABLED}
    ),
    AccountStatus.CONNECTED: frozenset({AccountStatus.DISABLED}),
}


async def apply_report(
    session: AsyncSession, account_id: str, changes: Mapping[str, str], at: datetime
) -> None:
    """Set each field of ``changes`` that no report newer than ``at`` has set. The row is locked
    first, so reports about one number applied at once by two workers are applied in turn."""
    account = await locked_account(session, account_id)
    times = account.report_times or {}
    current = [
        name
        for name, value in changes.items()
        if _not_after(times.get(name), at) and (name != STATUS or _may_move(account, value))
    ]
    for name in current:
        setattr(account, name, changes[name])
    mark_reported(account, current, at)


def mark_reported(account: WhatsAppAccount, fields: Collection[str], at: datetime) -> None:
    """Record that Meta reported ``fields`` of ``account`` as they are now, at ``at``."""
    if fields:
        account.report_times = {**(account.report_times or {}), **dict.fromkeys(fields, iso_utc(at))}


def _not_after(recorded: str | None, at: datetime) -> bool:
    return recorded is None or datetime.fromisoformat(recorded) <= at


def _may_move(account: WhatsAppAccount, status: str) -> bool:
    """Also true when the account is in that state already: the report is then the newest one about
    it (so a ban older than a reinstatement that found the number connected changes nothing)."""
    return account.status == status or account.status in STATUS_MOVES.get(AccountStatus(status), frozenset())
