"""A new campaign's recipient rows, stored in one statement.

On PostgreSQL one ``INSERT … SELECT`` over ``unnest`` of a few arrays (ids, numbers, prices; names
and values only when some recipient has them) with the campaign's constants bound once: no Python
tuple per row nor conversion per value, and the driver encodes a few arrays instead of 100,000
records. On SQLite ``core.bulk_rows``' one plain ``executemany``.

The ids are handed out sorted (all of them share the millisecond of their UUIDv7 prefix, so the
rest is random): the primary key's index then receives them in ascending order, and PostgreSQL
appends each to its rightmost page instead of searching the tree for a random place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import JSON, Insert, Numeric, String, Table, Text, bindparam, cast, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.bulk_rows import insert_rows
from cxinbox.core.ids import new_ids
from cxinbox.models.campaigns import Campaign, CampaignRecipient, RecipientStatus

_TABLE: Table = CampaignRecipient.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class NewRecipients:
    """The recipients in request order (their ``position``)."""

    phones: list[str]
    prices: list[Decimal]
    #: None when no recipient has one (the column is left empty)
    names: list[str | None] | None
    #: each recipient's own values as JSON (None for those without); None when no recipient has any
    values: list[dict[str, Any] | None] | None


#: the columns of every row (``name`` and ``variables`` follow when some recipient has them)
_COLUMNS = (
    "id",
    "organization_id",
    "campaign_id",
    "position",
    "phone",
    "status",
    "cost",
    "created_at",
    "updated_at",
)


async def store(session: AsyncSession, campaign: Campaign, recipients: NewRecipients, now: datetime) -> None:
    ids = sorted(new_ids(len(recipients.phones)))
    if session.get_bind().dialect.name == "postgresql":
        await _unnested(session, campaign, recipients, ids, now)
    else:
        await _rows(session, campaign, recipients, ids, now)


async def _unnested(
    session: AsyncSession, campaign: Campaign, recipients: NewRecipients, ids: list[str], now: datetime
) -> None:
    params: dict[str, Any] = {
        "organization_id": campaign.organization_id,
        "campaign_id": campaign.id,
        "status": RecipientStatus.PENDING,
        "now": now,
        "ids": ids,
        "phones": recipients.phones,
        "costs": _texts(recipients.prices),
    }
    if recipients.names is not None:
        params["names"] = recipients.names
    if recipients.values is not None:
        params["values"] = [json.dumps(v) for v in recipients.values]
    await session.execute(_unnest_insert(recipients.names is not None, recipients.values is not None), params)


async def _rows(
    session: AsyncSession, campaign: Campaign, recipients: NewRecipients, ids: list[str], now: datetime
) -> None:
    columns: tuple[str, ...] = _COLUMNS
    head = (campaign.organization_id, campaign.id)
    given = zip(ids, recipients.phones, recipients.prices, strict=True)
    rows: list[tuple[Any, ...]] = [
        (id_, *head, position, phone, RecipientStatus.PENDING, price, now, now)
        for position, (id_, phone, price) in enumerate(given)
    ]
    if recipients.names is not None:
        columns += ("name",)
        rows = [(*row, name) for row, name in zip(rows, recipients.names, strict=True)]
    if recipients.values is not None:
        columns += ("variables",)
        rows = [(*row, values) for row, values in zip(rows, recipients.values, strict=True)]
    await insert_rows(session, _TABLE, columns, rows)


def _texts(prices: list[Decimal]) -> list[str]:
    """The prices as text, each distinct one written once (the driver encodes text several times
    faster than a ``numeric``; the database reads it back)."""
    written = {price: str(price) for price in set(prices)}
    return [written[price] for price in prices]


@cache
def _unnest_insert(names: bool, values: bool) -> Insert:
    """PostgreSQL's statement, with or without the optional columns: the arrays unnested together,
    their ordinal (from 1) as ``position``."""
    arrays = [
        bindparam("ids", type_=ARRAY(String, dimensions=1)),
        bindparam("phones", type_=ARRAY(String, dimensions=1)),
        bindparam("costs", type_=ARRAY(Text, dimensions=1)),
    ]
    labels = ["id", "phone", "cost"]
    if names:
        arrays.append(bindparam("names", type_=ARRAY(String, dimensions=1)))
        labels.append("name")
    if values:
        arrays.append(bindparam("values", type_=ARRAY(Text, dimensions=1)))
        labels.append("variables")
    given = func.unnest(*arrays).table_valued(*labels, with_ordinality="ordinal").render_derived()
    now = bindparam("now", type_=_TABLE.c.created_at.type)
    picked: dict[str, Any] = {
        "id": given.c.id,
        "organization_id": bindparam("organization_id", type_=_TABLE.c.organization_id.type),
        "campaign_id": bindparam("campaign_id", type_=_TABLE.c.campaign_id.type),
        "position": given.c.ordinal - 1,
        "phone": given.c.phone,
        "status": bindparam("status", type_=_TABLE.c.status.type),
        "cost": cast(given.c.cost, Numeric(12, 4)),
        "created_at": now,
        "updated_at": now,
    }
    if names:
        picked["name"] = given.c.name
    if values:
        picked["variables"] = cast(given.c.variables, JSON)
    return insert(_TABLE).from_select(list(picked), select(*picked.values()))
