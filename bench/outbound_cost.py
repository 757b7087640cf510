"""The outbound path's cost per delivered message: CPU time of the process, SQL statements and
transactions, for reply deliveries (one by one, and a burst) and for campaign batches.

No worker runs: the bench runs each job itself, one after another, against the fake Graph API
(``tests.fakes.graph``, in a child process: its CPU is not counted), so every figure is the job's
own, whatever the machine's load.

1. Replies: ``--replies`` conversations each get a bot-style reply through
   ``compose.queue_message`` (each in its own transaction, not measured) and each reply's
   ``whatsapp.deliver_message`` job runs (measured): one by one (each reply delivered before the
   next is queued, alone on its number), then as a burst (all queued first, their jobs run one
   after another: the first takes the others along through the batch path).
2. Campaign: a RUNNING campaign of ``--recipients`` recipients with an approved template; its
   ``campaigns.dispatch`` steps and the ``whatsapp.deliver_batch`` job of each step run until every
   recipient is sent (measured together, per message sent). The governor is set to ``--rate`` per
   second (a step writes ``rate`` messages, capped at 200; a slice sends a quarter second's worth,
   at most 50).

    .venv/bin/python -m bench.outbound_cost [--replies 200] [--recipients 2000] [--rate 1000]
        [--parts replies,campaign] [--rounds 1] [--profile FILE]
        [--database-url postgresql+asyncpg://… --redis-url redis://…]

CPU is ``time.process_time()`` around each job (the bench's process: the event loop and SQLite's
driver thread; the bench's own reads between jobs are not counted);
statements are counted by a ``before_cursor_execute`` listener, transactions by a ``begin``
listener, on every engine of the runtime.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from bench.bot_turns import TOKEN, Fakes
from bench.machine import load_average, machine
from bench.seeding import organization_with_number
from cxinbox.campaigns.dispatch import dispatch_campaign
from cxinbox.config import Settings
from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import registered_job
from cxinbox.core.logging import configure_logging
from cxinbox.migrations import upgrade
from cxinbox.models.campaigns import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from cxinbox.models.inbox import Contact, Conversation, Message, MessageStatus, SenderType
from cxinbox.models.outbound import OutboxEntry
from cxinbox.models.templates import MessageTemplate, TemplateCategory, TemplateStatus
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound import compose
from cxinbox.whatsapp.outbound.batch_delivery import deliver_batch
from cxinbox.whatsapp.outbound.delivery import deliver_message


class Counter:
    """Statements and transactions begun on the runtime's engines."""

    def __init__(self, runtime: Runtime) -> None:
        self.statements = self.transactions = 0
        # a read engine may be the primary with other options (PostgreSQL: read-only), whose
        # listeners hear its connections too: each underlying engine is listened to once
        engines = {
            getattr(e.sync_engine, "_proxied", e.sync_engine)
            for e in (runtime.engine, runtime.read_engine, runtime.current_read_engine)
        }
        for engine in engines:
            event.listen(engine, "before_cursor_execute", self._statement)
            event.listen(engine, "begin", self._begin)

    def _statement(self, *args: Any) -> None:
        self.statements += 1

    def _begin(self, *args: Any) -> None:
        self.transactions += 1


@dataclass
class Cost:
    cpu: float
    statements: int
    transactions: int


class Meter:
    """The cost of the jobs run through ``job``, summed (the bench's own reads between them are
    not counted)."""

    #: the profile of the measured jobs (``--profile``), enabled around each of them only
    profile: cProfile.Profile | None = None

    def __init__(self, runtime: Runtime, counter: Counter) -> None:
        self.runtime, self.counter = runtime, counter
        self.cost = Cost(0.0, 0, 0)

    async def job(self, fn: Any, **kwargs: Any) -> None:
        counter = self.counter
        spec = registered_job(fn.job_name)
        assert spec is not None
        if self.profile:
            self.profile.enable()
        cpu, statements, transactions = time.process_time(), counter.statements, counter.transactions
        await self.runtime._run_job(spec, kwargs)
        if self.profile:
            self.profile.disable()
        self.cost = Cost(
            self.cost.cpu + time.process_time() - cpu,
            self.cost.statements + counter.statements - statements,
            self.cost.transactions + counter.transactions - transactions,
        )


async def seed(runtime: Runtime, fakes: Fakes) -> tuple[str, WhatsAppAccount]:
    async with runtime.unit_of_work() as session:
        org, account = await organization_with_number(
            session,
            runtime,
            name="Outbound bench",
            slug="bench-out",
            token=TOKEN,
            messaging_limit_tier="TIER_UNLIMITED",  # past the messaging tiers, as bench.campaigns
        )
    fakes.add_number(account.phone_number_id, TOKEN)
    return org.id, account


async def conversations(runtime: Runtime, org_id: str, account: WhatsAppAccount, count: int) -> list[str]:
    """``count`` conversations whose customer wrote a minute ago (their window is open)."""
    at = utcnow() - timedelta(minutes=1)
    ids = []
    async with runtime.unit_of_work() as session:
        for _ in range(count):
            wa_id = str(random.randrange(10**11, 10**12))
            contact = Contact(organization_id=org_id, wa_id=wa_id, phone=f"+{wa_id}", name="Customer")
            session.add(contact)
            await session.flush()
            conversation = Conversation(
                organization_id=org_id,
                contact_id=contact.id,
                whatsapp_account_id=account.id,
                last_inbound_at=at,
                last_message_at=at,
                needs_action=True,
            )
            session.add(conversation)
            await session.flush()
            ids.append(conversation.id)
    return ids


async def replies(runtime: Runtime, counter: Counter, count: int, *, burst: bool) -> Cost:
    """``count`` bot replies, each queued by ``compose.queue_message`` in a conversation of its own
    and delivered by its ``whatsapp.deliver_message`` job: the delivery's cost. A ``burst`` queues
    them all first (the first job takes the others along, their own jobs find them sent); otherwise
    each is delivered before the next is queued (alone on its number: one by one)."""
    org_id, account = await seed(runtime, fakes_of(runtime))
    meter = Meter(runtime, counter)
    outbox_ids = []
    for conversation_id in await conversations(runtime, org_id, account, count):
        outbox_ids.append(await _queued_reply(runtime, conversation_id))
        if not burst:
            await meter.job(deliver_message, outbox_id=outbox_ids.pop())
    for outbox_id in outbox_ids:
        await meter.job(deliver_message, outbox_id=outbox_id)
    await all_sent(runtime, org_id, count)
    return meter.cost


async def _queued_reply(runtime: Runtime, conversation_id: str) -> str:
    """A bot-style reply in the conversation (its outbox row's id), nothing sent."""
    async with runtime.unit_of_work() as session:
        conversation = await session.get_one(Conversation, conversation_id)
        message = await compose.queue_message(
            session, runtime, conversation, compose.text_message("Sí, enviamos a todo México."),
            compose.Sender(SenderType.BOT), deliver=False,
        )  # fmt: skip
        await session.flush()
        outbox_id = await session.scalar(select(OutboxEntry.id).where(OutboxEntry.message_id == message.id))
    assert outbox_id is not None
    return outbox_id


async def campaign(runtime: Runtime, counter: Counter, count: int) -> Cost:
    """A campaign of ``count`` recipients: its steps and their batch deliveries, run in turn."""
    org_id, account = await seed(runtime, fakes_of(runtime))
    now = utcnow()
    async with runtime.unit_of_work() as session:
        template = MessageTemplate(
            organization_id=org_id,
            whatsapp_account_id=account.id,
            name="order_update",
            language="en_US",
            category=TemplateCategory.UTILITY,
            components=[{"type": "BODY", "text": "Your order is on its way."}],
            status=TemplateStatus.APPROVED,
        )
        session.add(template)
        await session.flush()
        row = Campaign(
            organization_id=org_id,
            name="Bench",
            template_id=template.id,
            whatsapp_account_id=account.id,
            language="en_US",
            status=CampaignStatus.RUNNING,
            started_at=now,
            total=count,
        )
        session.add(row)
        await session.flush()
        session.add_all(
            CampaignRecipient(
                organization_id=org_id,
                campaign_id=row.id,
                position=i,
                phone=f"+1{random.randrange(10**9, 10**10)}",
            )
            for i in range(count)
        )
        campaign_id = row.id
    sent = 0
    meter = Meter(runtime, counter)
    while sent < count:
        await meter.job(dispatch_campaign, campaign_id=campaign_id)
        async with runtime.read_session(current=True) as session:
            waiting = list(
                await session.scalars(
                    select(OutboxEntry.id)
                    .join(CampaignRecipient, CampaignRecipient.message_id == OutboxEntry.message_id)
                    .where(CampaignRecipient.campaign_id == campaign_id, OutboxEntry.state == "QUEUED")
                )
            )
        if waiting:
            await meter.job(deliver_batch, outbox_ids=waiting)
        async with runtime.read_session(current=True) as session:
            sent = len(
                list(
                    await session.scalars(
                        select(CampaignRecipient.id).where(
                            CampaignRecipient.campaign_id == campaign_id,
                            CampaignRecipient.status == RecipientStatus.SENT,
                        )
                    )
                )
            )
    await all_sent(runtime, org_id, count)
    return meter.cost


async def all_sent(runtime: Runtime, org_id: str, count: int) -> None:
    async with runtime.read_session(current=True) as session:
        statuses = list(
            await session.scalars(
                select(Message.status).where(
                    Message.organization_id == org_id, Message.sender_type != SenderType.CUSTOMER
                )
            )
        )
    assert len(statuses) == count and set(statuses) == {MessageStatus.SENT}, statuses[:5]


_FAKES: dict[int, Fakes] = {}


def fakes_of(runtime: Runtime) -> Fakes:
    return _FAKES[id(runtime)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="PostgreSQL instead of a temporary SQLite file")
    parser.add_argument("--redis-url", help="Redis for the job queue, events and the governor")
    parser.add_argument("--replies", type=int, default=200, help="single reply deliveries measured")
    parser.add_argument("--recipients", type=int, default=2000, help="campaign recipients measured")
    parser.add_argument("--rate", type=int, default=1000, help="the governor's sends per second")
    parser.add_argument("--rounds", type=int, default=1, help="repeat both parts, each row per round")
    parser.add_argument("--profile", help="write a profile of the measured jobs (CPU clock) here")
    parser.add_argument(
        "--parts", default="replies,campaign", help="which parts to measure: replies, campaign or both"
    )
    return parser.parse_args()


def row(label: str, count: int, cost: Cost) -> str:
    return (
        f"| {label} | {count} | {cost.cpu / count * 1000:.2f} | {cost.statements / count:.2f} "
        f"| {cost.transactions / count:.2f} |"
    )


async def run(args: argparse.Namespace, data_dir: Path) -> list[str]:
    fakes = Fakes()
    settings = Settings(
        env="test",
        data_dir=data_dir,
        database_url=args.database_url or f"sqlite+aiosqlite:///{data_dir}/bench.db",
        redis_url=args.redis_url,
        redis_prefix=f"bench-out-{uuid.uuid4().hex[:8]}",
        secret_key="bench-secret-key",
        meta_graph_url=fakes.graph_url,
        allow_private_urls=True,
        rate_limits="off",
        log_level="WARNING",
        whatsapp_send_rate_per_second=args.rate,
    )
    await asyncio.to_thread(upgrade, settings.database_url)
    runtime = Runtime(settings)
    _FAKES[id(runtime)] = fakes
    await runtime.start(workers=False)
    counter = Counter(runtime)
    lines = []
    try:
        parts = args.parts.split(",")
        await replies(runtime, counter, 20, burst=False)  # warm-up: connections, statements compiled
        await replies(runtime, counter, 20, burst=True)
        await campaign(runtime, counter, 400)
        Meter.profile = cProfile.Profile(time.process_time) if args.profile else None
        for _ in range(args.rounds):
            if "replies" in parts:
                cost = await replies(runtime, counter, args.replies, burst=False)
                lines.append(
                    row("reply delivery, one by one (`whatsapp.deliver_message`)", args.replies, cost)
                )
                cost = await replies(runtime, counter, args.replies, burst=True)
                lines.append(row("reply delivery, a burst on one number", args.replies, cost))
            if "campaign" in parts:
                cost = await campaign(runtime, counter, args.recipients)
                lines.append(row("campaign send (steps + batch deliveries)", args.recipients, cost))
        if Meter.profile:
            Meter.profile.dump_stats(args.profile)
    finally:
        await runtime.stop()
        fakes.stop()
    return lines


async def main() -> None:
    args = parse_args()
    configure_logging("WARNING")
    load = os.getloadavg()
    backend = "PostgreSQL + Redis" if args.database_url else "SQLite"
    with tempfile.TemporaryDirectory(prefix="cxinbox-bench-outbound-") as tmp:
        lines = await run(args, Path(tmp))
    print(f"{backend}, governor {args.rate}/s")
    print("| path | messages | CPU ms / message | statements / message | transactions / message |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(lines))
    print(f"{machine()}; load average (1, 5, 15 min) before {load_average(load)}; after {load_average()}")


if __name__ == "__main__":
    asyncio.run(main())
