"""What a turn reads of its organization that rarely changes is kept in the process (``mind_cache``),
keyed by the organization's ``bot_revision``: a turn of an unchanged organization reads it with no
statement, and every change, made through the API or by another engine (another process), moves
the revision, so the next turn reads the change."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import select, text

from cxinbox.bot import mind_cache
from cxinbox.bot.mind import read_mind
from cxinbox.bot.setup import setup_of, turn_setup_of
from cxinbox.core.db import create_engine
from cxinbox.models.bot_turns import TurnDecision
from cxinbox.models.identity import Organization
from cxinbox.models.whatsapp import AccountStatus, WhatsAppAccount
from cxinbox.runtime import Runtime
from tests.fakes.llm import Reply
from tests.fixtures.statements import counting
from tests.tools.helpers import make_tool, order_tool

_numbers = itertools.count(5215550300000)


async def revision(runtime: Runtime, organization_id: str) -> int:
    async with runtime.unit_of_work() as session:
        return await session.scalar(
            select(Organization.bot_revision).where(Organization.id == organization_id)
        )


async def test_a_turn_of_an_unchanged_organization_reads_its_setup_in_one_statement(bot):
    conversation_id = await bot.writes("hola")
    await bot.finished_turns(conversation_id)
    mind_cache.forget()
    async with bot.runtime.unit_of_work() as session, counting(session) as statements:
        first = await turn_setup_of(session, conversation_id)
    # the setup, then the entry: the config and settings, the intents, the tools, the accounts
    assert first is not None and len(statements) == 5
    async with bot.runtime.unit_of_work() as session, counting(session) as statements:
        read = await turn_setup_of(session, conversation_id)
        assert read is not None and read.setup.config is first.setup.config
        account = await session.get(WhatsAppAccount, read.conversation.whatsapp_account_id)
        mind = await read_mind(
            session,
            bot.runtime,
            read.setup.config,
            read.setup.settings,
            [],
            "",
            conversation=read.conversation,
        )
    assert len(statements) == 1
    assert account is read.setup.account and account.status is AccountStatus.CONNECTED
    assert mind.intents == () and mind.tools == {}


async def test_an_organizations_setup_is_read_in_one_statement(bot, factory):
    """What the inbound pipeline reads per organization (``setup_of``), with or without a config."""
    bare = await factory.org()
    async with bot.runtime.unit_of_work() as session, counting(session) as statements:
        setup = await setup_of(session, bot.inbox.org.id)
        assert setup.enabled and setup.config is not None and setup.config.id == bot.config["id"]
        assert len(statements) == 1
        setup = await setup_of(session, bare.id)
        assert setup.config is None and not setup.settings.bot_enabled and len(statements) == 2


async def test_a_process_keeps_at_most_size_organizations(bot, factory, monkeypatch):
    monkeypatch.setattr(mind_cache, "SIZE", 1)
    other = await factory.org()
    async with bot.runtime.unit_of_work() as session:
        kept = await mind_cache.standing_of(
            session, bot.inbox.org.id, await revision(bot.runtime, bot.inbox.org.id)
        )
        assert kept.config is not None and mind_cache.holding(kept.config) is kept
        await mind_cache.standing_of(session, other.id, 0)
    assert mind_cache.holding(kept.config) is None


async def test_every_change_of_what_turns_keep_moves_the_revision(bot, factory):
    runtime, org = bot.runtime, bot.inbox.org.id
    bystander = await factory.org()
    engine = create_engine(runtime.settings.database_url)

    async def elsewhere(sql: str) -> None:
        """A change another process makes: another engine, raw SQL."""
        async with engine.begin() as connection:
            await connection.execute(text(sql), {"org": org})

    async def moves(change: Any) -> None:
        before = await revision(runtime, org)
        done = await change
        assert getattr(done, "status_code", 200) < 300, done.text
        assert await revision(runtime, org) > before

    h = bot.admin.headers
    try:
        await moves(
            bot.client.post(
                "/bot-config/intents", json={"name": "A", "examples": ["a"], "response": "a"}, headers=h
            )
        )
        connection = (await bot.client.post("/connections", json=_CONNECTION, headers=h)).json()["data"]
        assert await revision(runtime, org) > 0
        await moves(make_tool(bot.client, bot.admin, order_tool(connection["id"])))
        await moves(bot.toggle("auto-categorize", True))
        for table in ("bot_configs", "bot_intents", "bot_tools", "connections", "organization_settings"):
            # an update that changes no value moves it too
            await moves(elsewhere(f"UPDATE {table} SET updated_at = updated_at WHERE organization_id = :org"))
        await moves(elsewhere("UPDATE whatsapp_accounts SET alias = 'x' WHERE organization_id = :org"))
        # deleting the connection unlinks its tools: the cascade moves it too
        for table in ("connections", "bot_tools", "bot_intents", "organization_settings", "bot_configs"):
            await moves(elsewhere(f"DELETE FROM {table} WHERE organization_id = :org"))
        await moves(elsewhere("DELETE FROM whatsapp_accounts WHERE organization_id = :org"))
    finally:
        await engine.dispose()
    assert await revision(runtime, bystander.id) == 0


async def test_the_next_turn_reads_each_change_wherever_it_was_made(bot):
    runtime = bot.runtime
    engine = create_engine(runtime.settings.database_url)

    async def turn(words: str) -> Any:
        conversation_id = await bot.writes(words, wa_id=str(next(_numbers)))
        [done] = await bot.finished_turns(conversation_id)
        return done

    async def elsewhere(sql: str) -> None:
        async with engine.begin() as connection:
            await connection.execute(text(sql), {"org": bot.inbox.org.id})

    try:
        bot.answers(*(Reply(f"respuesta {n}") for n in range(4)))
        await turn("hola")
        [first] = bot.llm.requests_with(bot.key)
        assert {t["function"]["name"] for t in first.body["tools"]} == {"handoff_to_human"}
        # through the API: a tool
        connection = (
            await bot.client.post("/connections", json=_CONNECTION, headers=bot.admin.headers)
        ).json()
        await make_tool(bot.client, bot.admin, order_tool(connection["data"]["id"]))
        await turn("hola otra vez")
        second = bot.llm.requests_with(bot.key)[-1]
        assert {t["function"]["name"] for t in second.body["tools"]} == {"order_status", "handoff_to_human"}
        # by another process: the prompt
        await elsewhere("UPDATE bot_configs SET system_prompt = 'Eres Lupita' WHERE organization_id = :org")
        await turn("buenas")
        assert "Eres Lupita" in bot.llm.requests_with(bot.key)[-1].body["messages"][0]["content"]
        # through the API: an intent, which answers without the model
        r = await bot.client.post(
            "/bot-config/intents",
            json={"name": "Horario", "examples": ["horario"], "response": "Abrimos a las 9"},
            headers=bot.admin.headers,
        )
        assert r.status_code == 201, r.text
        calls = len(bot.llm.requests_with(bot.key))
        replied = await turn("¿cuál es su horario?")
        assert replied.decision is TurnDecision.REPLIED and len(bot.llm.requests_with(bot.key)) == calls
        # by another process: the number, disabled by Meta, sends nothing
        await elsewhere("UPDATE whatsapp_accounts SET status = 'DISABLED' WHERE organization_id = :org")
        refused = await turn("hola de nuevo")
        assert refused.decision is TurnDecision.FAILED
        assert any("not sent" in note for note in refused.trace["notes"])
    finally:
        await engine.dispose()


_CONNECTION = {"name": "Orders API", "baseUrl": "https://orders.example.com/v1"}
