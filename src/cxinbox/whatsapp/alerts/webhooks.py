"""Account-level webhook changes -> alerts for the organizations whose numbers they concern.

A change is routed by its WhatsApp Business Account (``entry.id``, or ``waba_info.waba_id`` for
partner events, whose entry is the partner's business) and, when it is about one number, by that
number (``phone_number_id``, or the display number for quality and name updates, which carry no id).
A change about the whole account raises one alert per organization on its oldest number there, and
a ban, its lifting or the account's deletion changes the state of every number of the account; a
change about one number raises an alert on that number and updates its quality, messaging limit and
name fields (a number none of the WABA's numbers matches raises the account-wide alert instead). A
state or field changes only if no newer report set it already (``whatsapp.reports``: changes arrive
in any order). A WABA or number no organization has connected stays unrouted, and so does a number
the webhook's signature does not cover (``inbound.scope``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.whatsapp.alerts.classify import classify
from cxinbox.whatsapp.alerts.service import raise_alert
from cxinbox.whatsapp.inbound.parse import provider_time
from cxinbox.whatsapp.payload import child
from cxinbox.whatsapp.reports import STATUS, apply_report
from cxinbox.whatsapp.repository import live_accounts_by_number, live_accounts_by_waba

#: fields whose changes are about one number, named by its display number
DISPLAY_NUMBER_FIELDS = frozenset({"phone_number_quality_update", "phone_number_name_update"})


@dataclass(frozen=True)
class NumberRef:
    """The number a change is about."""

    phone_number_id: str | None = None
    display_digits: str | None = None

    def matches(self, account: WhatsAppAccount) -> bool:
        if self.phone_number_id:
            return account.phone_number_id == self.phone_number_id
        return bool(self.display_digits) and _digits(account.display_phone_number) == self.display_digits


async def record_change(
    session: AsyncSession,
    entry: dict[str, Any],
    change: dict[str, Any],
    admits: Callable[[WhatsAppAccount], bool],
) -> list[str]:
    """Raise the alerts of one change on the accounts it is about that ``admits`` lets it touch; the
    ids of the organizations it was routed to."""
    field_name = str(change.get("field") or "")
    value = child(change, "value")
    draft = classify(field_name, value)
    if draft is None:
        return []
    number = named_number(field_name, value)
    candidates = [a for a in await _candidates(session, entry, value, number) if admits(a)]
    about_number = [a for a in candidates if number is not None and number.matches(a)]
    key = change_key(entry, change)
    details = {"field": field_name, "entryId": entry.get("id"), "time": entry.get("time"), "value": value}
    reported_at = report_time(entry, value)
    raise_on = about_number or _first_per_organization(candidates)
    for account in raise_on:
        source_key = f"{key}:{account.phone_number_id}" if about_number else key
        await raise_alert(
            session, account, draft, source_key=source_key, details=details, occurred_at=reported_at
        )
    # a replayed change is applied again harmlessly: a report is never applied over a newer one
    if draft.account_changes:
        for account in about_number:
            await apply_report(session, account.id, draft.account_changes, reported_at)
    if draft.account_status is not None:
        for account in candidates:
            await apply_report(session, account.id, {STATUS: draft.account_status}, reported_at)
    return sorted({a.organization_id for a in raise_on})


def report_time(entry: dict[str, Any], value: dict[str, Any]) -> datetime:
    """When Meta reported a change: its own timestamp when it carries one, else its entry's time."""
    return provider_time(value.get("timestamp") or entry.get("time"))


def named_number(field_name: str, value: dict[str, Any]) -> NumberRef | None:
    phone_number_id = child(value, "metadata").get("phone_number_id") or value.get("phone_number_id")
    if value.get("entity_type") == "PHONE_NUMBER":
        phone_number_id = value.get("entity_id")
    if phone_number_id:
        return NumberRef(phone_number_id=str(phone_number_id))
    if field_name in DISPLAY_NUMBER_FIELDS and value.get("display_phone_number"):
        return NumberRef(display_digits=_digits(str(value["display_phone_number"])))
    return None


def change_key(entry: dict[str, Any], change: dict[str, Any]) -> str:
    """A stable id of one change (Meta gives none): the same change delivered again hashes the same."""
    canonical = json.dumps(
        [entry.get("id"), entry.get("time"), change.get("field"), change.get("value")],
        sort_keys=True,
        separators=(",", ":"),
    )
    return "webhook:" + hashlib.sha256(canonical.encode()).hexdigest()


async def _candidates(
    session: AsyncSession, entry: dict[str, Any], value: dict[str, Any], number: NumberRef | None
) -> list[WhatsAppAccount]:
    waba_id = child(value, "waba_info").get("waba_id") or entry.get("id")
    accounts = await live_accounts_by_waba(session, [str(waba_id)] if waba_id else [])
    if number is not None and number.phone_number_id:
        by_number = await live_accounts_by_number(session, [number.phone_number_id])
        accounts += [a for a in by_number.values() if a not in accounts]
    return accounts


def _first_per_organization(accounts: list[WhatsAppAccount]) -> list[WhatsAppAccount]:
    first: dict[str, WhatsAppAccount] = {}
    for account in accounts:
        first.setdefault(account.organization_id, account)
    return list(first.values())


def _digits(number: str | None) -> str:
    return re.sub(r"\D", "", number or "")
