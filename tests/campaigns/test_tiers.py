"""The messaging tier's use as campaign steps read it: counted exactly, kept between steps (which
add what the number queued since, from a margin before the count), never below the true use, and
counted exactly again when the estimate leaves no room."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert

from cxinbox.campaigns.tiers import ROLLING_WINDOW, Room, room_left
from cxinbox.core.clock import utcnow
from cxinbox.core.ids import new_id
from cxinbox.models.inbox import Direction, Message, MessageStatus, MessageType, SenderType
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.whatsapp import WhatsAppAccount
from tests.campaigns.helpers import phones, set_tier
from tests.fixtures.inbox import make_inbox

pytestmark = pytest.mark.usefixtures("graph")


async def _queued(inbox, conversation_id: str, recipients: list[str], at: datetime) -> None:
    """Template sends to ``recipients`` on the inbox's number, queued ``at``."""
    async with inbox.runtime.unit_of_work() as session:
        for recipient in recipients:
            message_id = new_id()
            common = {"organization_id": inbox.org.id, "created_at": at, "updated_at": at}
            await session.execute(
                insert(Message).values(
                    id=message_id,
                    conversation_id=conversation_id,
                    direction=Direction.OUTBOUND,
                    sender_type=SenderType.SYSTEM,
                    type=MessageType.TEMPLATE,
                    status=MessageStatus.SENT,
                    ordered_at=at,
                    is_hidden=False,
                    simulated=False,
                    **common,
                )  # fmt: skip
            )
            await session.execute(
                insert(OutboxEntry).values(
                    id=new_id(),
                    message_id=message_id,
                    whatsapp_account_id=inbox.account.id,
                    recipient=recipient.lstrip("+"),
                    payload={},
                    template_name="notice",
                    state=OutboxState.SENT,
                    attempts=1,
                    next_attempt_at=at,
                    permanent=False,
                    **common,
                )  # fmt: skip
            )


async def test_tier_use_is_kept_between_steps_and_never_below_the_truth(client, runtime, factory, graph):
    inbox = await make_inbox(client, runtime, factory, graph)
    await set_tier(runtime, inbox.account, "TIER_50")
    conversation_id = await inbox.customer_writes("Hi")
    now = utcnow()

    async def room(at: datetime) -> Room:
        async with runtime.unit_of_work() as session:
            account = await session.get_one(WhatsAppAccount, inbox.account.id)
            return await room_left(runtime, session, account, at)

    first = phones(10)
    await _queued(inbox, conversation_id, first, now - timedelta(hours=1))
    assert await room(now) == Room(left=40, frees_at=now - timedelta(hours=1) + ROLLING_WINDOW)
    # the same five customers again, after the count: the estimate counts their rows (true use: 10)
    await _queued(inbox, conversation_id, first[:5], now + timedelta(seconds=1))
    assert (await room(now + timedelta(seconds=2))).left == 35
    # a send written just before the count but committed after it is counted too
    await _queued(inbox, conversation_id, phones(1), now - timedelta(seconds=2))
    assert (await room(now + timedelta(seconds=3))).left == 34
    # no room left by the estimate: counted exactly again (11 distinct + 35 new = 46)
    await _queued(inbox, conversation_id, phones(35), now + timedelta(seconds=3))
    assert (await room(now + timedelta(seconds=4))).left == 4
    await _queued(inbox, conversation_id, phones(4), now + timedelta(seconds=4))
    assert (await room(now + timedelta(seconds=5))).left == 0
