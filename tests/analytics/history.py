"""A known history of two organizations, written through the models with chosen timestamps, whose
every figure the tests work out by hand.

The range is 7-9 March 2026 in America/New_York, across the spring-forward change of 8 March
(02:00 EST becomes 03:00 EDT): the local days are 24, 23 and 24 hours long,
``[05:00Z Mar 7, 05:00Z Mar 8)``, ``[05:00Z Mar 8, 04:00Z Mar 9)``, ``[04:00Z Mar 9, 04:00Z Mar 10)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cxinbox.models.campaigns import Campaign, CampaignRecipient, RecipientStatus
from cxinbox.models.identity import Plan, Role
from cxinbox.models.inbox import (
    ActorType,
    Contact,
    Conversation,
    ConversationStatus,
    ConversationTimelineEntry,
    Direction,
    Message,
    MessageStatus,
    MessageType,
    SenderType,
    TimelineKind,
)
from cxinbox.runtime import Runtime
from tests.fakes.graph import FakeGraph
from tests.fixtures.factories import Factory, Member, Org
from tests.fixtures.whatsapp import connect_number, unique_number

ZONE = "America/New_York"
FROM, TO = "2026-03-07T00:00:00", "2026-03-10T00:00:00"
RANGE = {"from": FROM, "to": TO, "timezone": ZONE}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Writer:
    """Rows of one organization, each with the time it happened."""

    def __init__(self, session, organization_id: str, account_id: str) -> None:
        self.session = session
        self.org = organization_id
        self.account = account_id

    async def conversation(
        self,
        created: str,
        *,
        status: ConversationStatus = ConversationStatus.OPEN,
        closed: str | None = None,
        assignee: Member | None = None,
        category: str | None = None,
    ) -> str:
        contact = Contact(organization_id=self.org, wa_id=unique_number(), name="Customer")
        self.session.add(contact)
        await self.session.flush()
        conversation = Conversation(
            organization_id=self.org,
            contact_id=contact.id,
            whatsapp_account_id=self.account,
            status=status,
            created_at=at(created),
            closed_at=at(closed) if closed else None,
            assigned_to_id=assignee.id if assignee else None,
            category=category,
        )
        self.session.add(conversation)
        await self.session.flush()
        return conversation.id

    def message(
        self, conversation_id: str, when: str, sender: SenderType, user: Member | None = None
    ) -> None:
        inbound = sender == SenderType.CUSTOMER
        self.session.add(
            Message(
                organization_id=self.org,
                conversation_id=conversation_id,
                direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
                sender_type=sender,
                sender_user_id=user.id if user else None,
                type=MessageType.TEXT,
                text="…",
                status=MessageStatus.RECEIVED if inbound else MessageStatus.SENT,
                ordered_at=at(when),
                created_at=at(when),
            )
        )

    def move(
        self, conversation_id: str, when: str, kind: TimelineKind, before: str | None, after: str
    ) -> None:
        self.session.add(
            ConversationTimelineEntry(
                organization_id=self.org,
                conversation_id=conversation_id,
                kind=kind,
                from_value=before,
                to_value=after,
                actor_type=ActorType.SYSTEM,
                reason="test",
                created_at=at(when),
            )
        )

    async def campaign(
        self, created: str, spent: str, estimated: str, statuses: list[tuple[str, bool]]
    ) -> None:
        campaign = Campaign(
            organization_id=self.org,
            name=f"Campaign {created}",
            whatsapp_account_id=self.account,
            language="en",
            created_at=at(created),
            spent=Decimal(spent),
            estimated_cost=Decimal(estimated),
            total=len(statuses),
        )
        self.session.add(campaign)
        await self.session.flush()
        for i, (status, replied) in enumerate(statuses):
            self.session.add(
                CampaignRecipient(
                    organization_id=self.org,
                    campaign_id=campaign.id,
                    position=i,
                    phone=unique_number(),
                    status=RecipientStatus(status),
                    replied_at=at(created) + timedelta(hours=1) if replied else None,
                )
            )


@dataclass
class History:
    org: Org
    agent: Member  # A1
    agent_two: Member  # A2
    supervisor: Member
    other: Org
    other_agent: Member


async def build(runtime: Runtime, graph: FakeGraph) -> History:
    factory = Factory(runtime)
    org = await factory.org(plan=Plan.ENTERPRISE)
    a1 = await factory.member(org.id, Role.AGENT)
    a2 = await factory.member(org.id, Role.AGENT)
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    other = await factory.org(plan=Plan.ENTERPRISE)
    stranger = await factory.member(other.id, Role.AGENT)
    mine = await connect_number(runtime, graph, org.id)
    theirs = await connect_number(runtime, graph, other.id)
    S, C = ConversationStatus, SenderType
    async with runtime.unit_of_work() as session:
        w = Writer(session, org.id, mine.id)
        # C1: answered by A1 after 120 s (assigned at 10:01, A1's own wait 60 s), closed after 2 h
        c1 = await w.conversation(
            "2026-03-07T10:00:00", status=S.CLOSED, closed="2026-03-07T12:00:00", assignee=a1
        )
        w.message(c1, "2026-03-07T10:00:00", C.CUSTOMER)
        w.move(c1, "2026-03-07T10:01:00", TimelineKind.ASSIGNEE, None, a1.id)
        w.message(c1, "2026-03-07T10:02:00", C.AGENT, a1)
        # C2: 23:30 EST on the 7th; the bot answers in 30 s and closes it at 01:30 EST on the 8th
        c2 = await w.conversation("2026-03-08T04:30:00", status=S.CLOSED, closed="2026-03-08T06:30:00")
        w.message(c2, "2026-03-08T04:30:00", C.CUSTOMER)
        w.message(c2, "2026-03-08T04:30:30", C.BOT)
        w.move(c2, "2026-03-08T06:30:00", TimelineKind.STATUS, "BOT_HANDLING", "CLOSED")
        # C3: 00:30 EDT on the 9th (23:30 of the 8th at the old offset): the bot answers in 60 s,
        # hands off, A2 is assigned and answers 10 minutes later
        c3 = await w.conversation("2026-03-09T04:30:00", status=S.HUMAN_HANDLING, assignee=a2)
        w.message(c3, "2026-03-09T04:30:00", C.CUSTOMER)
        w.message(c3, "2026-03-09T04:31:00", C.BOT)
        w.move(c3, "2026-03-09T04:35:00", TimelineKind.STATUS, "BOT_HANDLING", "HUMAN_HANDLING")
        w.move(c3, "2026-03-09T04:35:00", TimelineKind.ASSIGNEE, None, a2.id)
        w.message(c3, "2026-03-09T04:45:00", C.AGENT, a2)
        # C4: two customer messages, never answered; an automatic reply does not count
        c4 = await w.conversation("2026-03-08T15:00:00", category="billing")
        w.message(c4, "2026-03-08T15:00:00", C.CUSTOMER)
        w.message(c4, "2026-03-08T15:00:01", C.SYSTEM)
        w.message(c4, "2026-03-08T15:05:00", C.CUSTOMER)
        # C5: created before the range, closed in it by A1 (3 days after creation)
        c5 = await w.conversation(
            "2026-03-06T12:00:00", status=S.CLOSED, closed="2026-03-09T12:00:00", assignee=a1
        )
        w.message(c5, "2026-03-06T12:00:00", C.CUSTOMER)
        w.move(c5, "2026-03-06T12:01:00", TimelineKind.ASSIGNEE, None, a1.id)
        w.message(c5, "2026-03-06T12:05:00", C.AGENT, a1)
        # C6: created at the range's end (excluded)
        c6 = await w.conversation("2026-03-10T04:00:00")
        w.message(c6, "2026-03-10T04:00:00", C.CUSTOMER)
        await w.campaign(
            "2026-03-08T12:00:00",
            "0.3",
            "0.5",
            [
                ("READ", True),
                ("READ", False),
                ("DELIVERED", False),
                ("SENT", False),
                ("FAILED", False),
                ("PENDING", False),
            ],
        )
        await w.campaign("2026-03-01T12:00:00", "9", "9", [("READ", True)])  # before the range
        # the other organization: busy in the same range, with the same kinds of rows
        t = Writer(session, other.id, theirs.id)
        for hour in range(10, 14):
            x = await t.conversation(
                f"2026-03-08T{hour}:00:00", status=S.CLOSED, closed=f"2026-03-08T{hour}:30:00"
            )
            t.message(x, f"2026-03-08T{hour}:00:00", C.CUSTOMER)
            t.message(x, f"2026-03-08T{hour}:00:05", C.BOT)
            t.move(x, f"2026-03-08T{hour}:01:00", TimelineKind.ASSIGNEE, None, stranger.id)
            t.message(x, f"2026-03-08T{hour}:02:00", C.AGENT, stranger)
        await t.campaign("2026-03-08T12:00:00", "5", "5", [("READ", True), ("FAILED", False)])
    return History(org, a1, a2, supervisor, other, stranger)
