"""A deterministic inbox of N conversations (one contact each) and 5N messages, bulk-loaded:
COPY on PostgreSQL (secondary indexes dropped for the load and rebuilt after), batched executemany
on SQLite."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from cxinbox.auth.refresh import start_session
from cxinbox.conversations import counters
from cxinbox.models.identity import Organization, Plan, Role, User
from cxinbox.models.inbox import Contact, Conversation, Message
from cxinbox.models.teams import Team, TeamMember
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime

MESSAGES_PER_CONVERSATION = 5
AGENTS = 20
TEAMS = 4
CATEGORIES = ["billing", "shipping", "returns", "product", "account", "complaint", "sales", "other"]
#: status -> share of conversations (most of a real inbox's history is closed)
STATUS_SHARES = {
    "CLOSED": 0.70,
    "OPEN": 0.08,
    "HUMAN_HANDLING": 0.12,
    "WAITING_FOR_CUSTOMER": 0.06,
    "BOT_HANDLING": 0.04,
}
FIRST = [
    "Dana",
    "Noa",
    "Ana",
    "Liam",
    "Omar",
    "Mei",
    "Ivan",
    "Sara",
    "Jonas",
    "Priya",
    "Lucas",
    "Aisha",
    "Tom",
    "Yuki",
]
LAST = [
    "Levi",
    "Cohen",
    "Garcia",
    "Smith",
    "Khan",
    "Chen",
    "Petrov",
    "Silva",
    "Müller",
    "Patel",
    "Rossi",
    "Kim",
]
WORDS = [
    *("hello", "hi", "thanks", "please", "order", "delivery", "package", "arrived", "late", "today"),
    *("tomorrow", "price", "discount", "invoice", "payment", "card", "account", "password", "change"),
    *("address", "size", "color", "exchange", "store", "open", "hours", "help", "question", "problem"),
    *("broken", "working", "again", "soon", "great", "perfect", "okay", "yes", "no", "maybe", "where"),
    *("when", "how", "much", "available"),
]
#: a word about 3% of messages contain: a search that matches a lot
COMMON_WORD = "refund"
WA_ID_SPACE = 9 * 10**11
WA_ID_STEP = 7919  # prime, coprime with WA_ID_SPACE: i -> wa_id is one-to-one


def wa_id(i: int) -> str:
    """Contact ``i``'s WhatsApp id: 12 digits, unique per i."""
    return str(10**11 + (i * WA_ID_STEP + 12345) % WA_ID_SPACE)


def contact_index(number: str) -> int:
    """The ``i`` of ``wa_id(i)``."""
    return (int(number) - 10**11 - 12345) * pow(WA_ID_STEP, -1, WA_ID_SPACE) % WA_ID_SPACE


def order_number(i: int) -> str:
    """The order number conversation ``i``'s first message names (exactly one message has it)."""
    return f"ORD-{i:07d}"


@dataclass
class Bench:
    organization_id: str
    conversations: int
    admin_token: str
    agent_token: str


def bench_slug(conversations: int) -> str:
    return f"bench-inbox-{conversations}"


async def ensure_dataset(runtime: Runtime, conversations: int, *, seed: int = 7) -> Bench:
    """The benchmark organization for ``conversations``, generated unless it exists already."""
    async with runtime.unit_of_work() as session:
        org = await session.scalar(select(Organization).where(Organization.slug == bench_slug(conversations)))
    if org is None:
        started = time.monotonic()
        messages = conversations * MESSAGES_PER_CONVERSATION
        print(f"generating {conversations:,} conversations and {messages:,} messages…")
        org_id = await _generate(runtime, conversations, seed)
        print(f"generated and indexed in {time.monotonic() - started:.0f} s")
    else:
        org_id = org.id
        print(f"reusing the generated organization {org.slug}")
    return await _sign_in(runtime, org_id, conversations)


async def _sign_in(runtime: Runtime, org_id: str, conversations: int) -> Bench:
    async with runtime.unit_of_work() as session:
        admin = await session.scalar(
            select(User).where(User.organization_id == org_id, User.role == Role.ADMIN)
        )
        agent = await session.scalar(
            select(User)
            .where(User.organization_id == org_id, User.role == Role.AGENT)
            .order_by(User.email)
            .limit(1)
        )
        assert admin is not None and agent is not None
        admin_token = start_session(session, runtime, admin).access_token
        agent_token = start_session(session, runtime, agent).access_token
    return Bench(org_id, conversations, admin_token, agent_token)


@dataclass
class _People:
    org_id: str
    account_id: str
    admin_id: str
    agent_ids: list[str]
    team_ids: list[str]


async def _people(runtime: Runtime, conversations: int) -> _People:
    async with runtime.unit_of_work() as session:
        org = Organization(name="Inbox benchmark", slug=bench_slug(conversations), plan=Plan.ENTERPRISE)
        session.add(org)
        await session.flush()
        admin = User(
            organization_id=org.id, email=f"admin@{org.slug}.example.com", name="Bench Admin", role=Role.ADMIN
        )
        agents = [
            User(
                organization_id=org.id,
                email=f"agent{i:02d}@{org.slug}.example.com",
                name=f"Agent {i}",
                role=Role.AGENT,
            )
            for i in range(AGENTS)
        ]
        teams = [Team(organization_id=org.id, name=f"Team {i}") for i in range(TEAMS)]
        account = WhatsAppAccount(
            organization_id=org.id, waba_id="1", phone_number_id=f"bench{uuid.uuid4().hex[:12]}"
        )
        session.add_all([admin, *agents, *teams, account])
        await session.flush()
        for i, agent in enumerate(agents):
            session.add(TeamMember(organization_id=org.id, team_id=teams[i % TEAMS].id, user_id=agent.id))
        return _People(org.id, account.id, admin.id, [a.id for a in agents], [t.id for t in teams])


def _rows(
    people: _People, conversations: int, seed: int
) -> Iterator[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]]:
    """(contact, conversation, messages) for each conversation, oldest activity first."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    statuses, weights = list(STATUS_SHARES), list(STATUS_SHARES.values())
    assignees = [people.admin_id, *people.agent_ids]
    for i in range(conversations):
        status = rng.choices(statuses, weights)[0]
        active = status != "CLOSED"
        last_at = now - timedelta(
            seconds=int((conversations - i) * 365 * 86400 / conversations) + rng.randint(0, 59)
        )
        contact_id, conversation_id = str(uuid.uuid4()), str(uuid.uuid4())
        needs_action = active and rng.random() < 0.4
        assigned = status in ("HUMAN_HANDLING", "WAITING_FOR_CUSTOMER") or (
            status == "CLOSED" and rng.random() < 0.8
        )
        created_at = last_at - timedelta(hours=rng.randint(1, 72))
        contact = {
            "id": contact_id,
            "organization_id": people.org_id,
            "wa_id": wa_id(i),
            "phone": f"+{wa_id(i)}",
            "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "created_at": created_at,
            "updated_at": created_at,
        }
        assignee = rng.choice(assignees) if assigned else None
        messages: list[dict[str, Any]] = []
        for m in range(MESSAGES_PER_CONVERSATION):
            last = m == MESSAGES_PER_CONVERSATION - 1
            inbound = (m % 2 == 0) if not last else (needs_action or not active and rng.random() < 0.5)
            words = rng.choices(WORDS, k=rng.randint(4, 14))
            if m == 0:
                words.append(order_number(i))
            if rng.random() < 0.03:
                words.insert(rng.randrange(len(words)), COMMON_WORD)
            at = last_at - timedelta(minutes=(MESSAGES_PER_CONVERSATION - 1 - m) * 7)
            messages.append(
                {
                    "id": str(uuid.uuid4()),
                    "organization_id": people.org_id,
                    "conversation_id": conversation_id,
                    "direction": "INBOUND" if inbound else "OUTBOUND",
                    "sender_type": "CUSTOMER" if inbound else "AGENT",
                    "sender_user_id": None if inbound else assignee,
                    "type": "text",
                    "text": " ".join(words).capitalize(),
                    "status": "RECEIVED" if inbound else "READ",
                    "wa_message_id": f"wamid.bench.{conversation_id}.{m}",
                    "provider_timestamp": at,
                    "ordered_at": at,
                    "is_hidden": False,
                    "simulated": False,
                    "created_at": at,
                    "updated_at": at,
                }
            )
        last_inbound = max((m["ordered_at"] for m in messages if m["direction"] == "INBOUND"), default=None)
        conversation = {
            "id": conversation_id,
            "organization_id": people.org_id,
            "contact_id": contact_id,
            "whatsapp_account_id": people.account_id,
            "status": status,
            "origin": "INBOUND",
            "assigned_to_id": assignee,
            "team_id": rng.choice(people.team_ids) if rng.random() < 0.9 else None,
            "category": rng.choice(CATEGORIES) if rng.random() < 0.7 else None,
            "priority": "NORMAL",
            "unread_count": rng.randint(1, 4) if active and rng.random() < 0.3 else 0,
            "needs_action": needs_action,
            "last_message_at": last_at,
            "last_message_preview": messages[-1]["text"][:200],
            "last_inbound_at": last_inbound,
            "closed_at": last_at if not active else None,
            "created_at": created_at,
            "updated_at": last_at,
        }
        yield contact, conversation, messages


async def _generate(runtime: Runtime, conversations: int, seed: int) -> str:
    people = await _people(runtime, conversations)
    rows = _rows(people, conversations, seed)
    if runtime.engine.dialect.name == "postgresql":
        await _load_postgresql(runtime, rows)
    else:
        await _load_sqlite(runtime, rows)
    async with runtime.unit_of_work() as session:  # COPY bypassed the count triggers
        await counters.recount(session, people.org_id)
        await counters.fold(session)
    return people.org_id


BATCH = 5_000
TABLES = {"contacts": Contact, "conversations": Conversation, "messages": Message}


def _batches(
    rows: Iterator[tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]],
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    batch: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for contact, conversation, messages in rows:
        batch["contacts"].append(contact)
        batch["conversations"].append(conversation)
        batch["messages"].extend(messages)
        if len(batch["conversations"]) >= BATCH:
            yield batch
            batch = {name: [] for name in TABLES}
    if batch["conversations"]:
        yield batch


async def _load_sqlite(runtime: Runtime, rows: Any) -> None:
    for n, batch in enumerate(_batches(rows), 1):
        async with runtime.engine.begin() as conn:
            for name, model in TABLES.items():
                await conn.execute(insert(model), batch[name])
        print(f"  {n * BATCH:,} conversations", end="\r", flush=True)
    async with runtime.engine.begin() as conn:
        await conn.exec_driver_sql("ANALYZE")
    print()


async def _load_postgresql(runtime: Runtime, rows: Any) -> None:
    async with runtime.engine.connect() as conn:
        dropped = await _drop_secondary_indexes(conn)
        await conn.commit()
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None  # asyncpg's connection, open for the whole load
        await raw.execute(
            "SET session_replication_role = replica"
        )  # skip FK triggers: consistent by construction
        columns = {name: [c.name for c in model.__table__.columns] for name, model in TABLES.items()}
        for n, batch in enumerate(_batches(rows), 1):
            for name in TABLES:
                # only the columns the rows give: COPY fills the others with their server defaults
                given = set().union(*batch[name])
                names = [c for c in columns[name] if c in given]
                records = [tuple(row.get(c) for c in names) for row in batch[name]]
                await raw.copy_records_to_table(name, records=records, columns=names)
            print(f"  {n * BATCH:,} conversations", end="\r", flush=True)
        await raw.execute("SET session_replication_role = DEFAULT")
        print(f"\n  rebuilding {len(dropped)} indexes…")
        await raw.execute("SET maintenance_work_mem = '512MB'")
        for name, definition in dropped:
            started = time.monotonic()
            await raw.execute(definition)
            print(f"    {name}: {time.monotonic() - started:.0f} s")
        for name in TABLES:
            await raw.execute(f"VACUUM ANALYZE {name}")


async def _drop_secondary_indexes(conn: AsyncConnection) -> list[tuple[str, str]]:
    """Drop the indexes of the loaded tables that back no constraint; answer how to rebuild them."""
    result = await conn.execute(
        text(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(:tables)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            """
        ),
        {"tables": list(TABLES)},
    )
    indexes = [(name, definition) for name, definition in result]
    for name, _ in indexes:
        await conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return indexes
