"""The threads of a campaign's recipients (``threads.open_outbound_threads``): a number without a
contact gets one and an OUTBOUND conversation waiting for the customer, written without the ORM,
and published as the API shows the stored conversation; a number with a contact keeps its open
conversation; a contact another transaction inserts meanwhile is resolved, not duplicated."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from cxinbox.conversations.schemas import ConversationOut
from cxinbox.models.event_log import EventRecord
from cxinbox.models.inbox import Contact, Conversation, ConversationOrigin, ConversationStatus
from cxinbox.whatsapp.inbound import threads
from tests.campaigns.helpers import create, phones, template, until
from tests.fixtures.inbox import make_inbox
from tests.fixtures.whatsapp import connect_number

pytestmark = pytest.mark.usefixtures("graph")


async def test_opened_conversations_are_stored_and_published_as_the_api_shows_them(
    client, runtime, factory, graph
):
    inbox = await make_inbox(client, runtime, factory, graph)
    template_id = await template(inbox, client, runtime)
    numbers = phones(4)
    known = numbers[0].lstrip("+")
    async with runtime.unit_of_work() as session:
        contact = Contact(organization_id=inbox.org.id, wa_id=known, phone=numbers[0], name="Known")
        session.add(contact)
        await session.flush()
        existing = Conversation(
            organization_id=inbox.org.id,
            contact_id=contact.id,
            whatsapp_account_id=inbox.account.id,
            team_id=inbox.team_id,
        )
        session.add(existing)
        await session.flush()
        existing_id = existing.id
    created = await create(client, inbox.admin, template_id, numbers)
    await until(client, inbox.admin, created["id"], "completed", lambda c: c["status"] == "COMPLETED")

    async with runtime.unit_of_work() as session:
        conversations = {
            c.contact.wa_id: c
            for c in await session.scalars(
                select(Conversation).where(Conversation.organization_id == inbox.org.id)
            )
        }
        assert set(conversations) == {n.lstrip("+") for n in numbers}
        assert conversations[known].id == existing_id
        for number in numbers[1:]:
            opened = conversations[number.lstrip("+")]
            assert (opened.origin, opened.status) == (
                ConversationOrigin.OUTBOUND,
                ConversationStatus.WAITING_FOR_CUSTOMER,
            )
            assert opened.contact.phone == number and opened.contact.name is None
        events = list(
            await session.scalars(
                select(EventRecord).where(
                    EventRecord.organization_id == inbox.org.id, EventRecord.type == "conversation.updated"
                )
            )
        )
        assert len(events) == len(numbers)
        by_id = {c.id: c for c in conversations.values()}
        for event in events:
            stored = ConversationOut.model_validate(by_id[event.data["id"]])
            assert event.data == stored.model_dump(mode="json", by_alias=True)


async def test_a_contact_inserted_meanwhile_is_resolved_not_duplicated(runtime, factory, graph, monkeypatch):
    org = await factory.org()
    account = await connect_number(runtime, graph, org.id)
    wa_ids = ["5511990000001", "5511990000002"]

    async with runtime.unit_of_work() as session:
        # another transaction's contact appears after the first look (staged in this one: the
        # insert of the new contacts then skips it, as ON CONFLICT DO NOTHING does)
        session.add(Contact(organization_id=org.id, wa_id=wa_ids[1], phone="+" + wa_ids[1]))
        await session.flush()
        real_scalars = session.scalars
        first = True

        async def blind_first_look(stmt, *args, **kwargs):
            nonlocal first
            found = await real_scalars(stmt, *args, **kwargs)
            if first:
                first = False
                return iter([])  # the first look saw no contact
            return found

        monkeypatch.setattr(session, "scalars", blind_first_look)
        opened = await threads.open_outbound_threads(session, account, wa_ids)
        monkeypatch.setattr(session, "scalars", real_scalars)
        assert isinstance(opened[wa_ids[0]], threads.OpenedConversation)
        assert isinstance(opened[wa_ids[1]], Conversation)
        count = await session.scalar(select(func.count(Contact.id)).where(Contact.organization_id == org.id))
        assert count == 2
