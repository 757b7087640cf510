from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from cxinbox.models.bot_turns import BotTurn, TurnState
from cxinbox.models.inbox import Conversation, Message, SenderType
from cxinbox.runtime import Runtime
from tests.fakes.graph import FakeGraph
from tests.fakes.llm import FakeLlm, Reply
from tests.fixtures.factories import Member
from tests.fixtures.inbox import Inbox, make_inbox
from tests.fixtures.wait import eventually

#: provider -> the fake's flavour and a model it is called with
PROVIDERS = {
    "OPENAI": ("openai", "gpt-4o-mini"),
    "ANTHROPIC": ("anthropic", "claude-haiku-4-5"),
    "GOOGLE": ("google", "gemini-2.5-flash"),
    "DEEPSEEK": ("deepseek", "deepseek-chat"),
    "KIMI": ("kimi", "kimi-k2-0905-preview"),
    "LOCAL": ("local", "llama3.1"),
}


def new_key() -> str:
    return f"sk-test-{uuid.uuid4().hex}"


async def make_config(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    llm: FakeLlm,
    provider: str = "OPENAI",
    *replies: Reply,
    **fields: Any,
) -> tuple[dict[str, Any], str]:
    """The organization's active config for ``provider`` on the fake, with a fresh key whose next
    answers are ``replies``; the config and its key."""
    flavour, model = PROVIDERS[provider]
    key = new_key()
    llm.script(key, *replies)
    body = {"provider": provider, "model": model, "apiKey": key, "baseUrl": llm.base(flavour), **fields}
    r = await client.put("/bot-config", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"], key


@dataclass
class BotInbox:
    """An inbox whose organization has the bot on, with an active config on the fake LLM."""

    inbox: Inbox
    llm: FakeLlm
    graph: FakeGraph
    key: str = ""
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def admin(self) -> Member:
        return self.inbox.admin

    @property
    def client(self) -> httpx.AsyncClient:
        return self.inbox.client

    @property
    def runtime(self) -> Runtime:
        return self.inbox.runtime

    def answers(self, *replies: Reply) -> None:
        """The config's next LLM answers."""
        self.llm.script(self.key, *replies)

    async def configure(self, *replies: Reply, **fields: Any) -> None:
        fields.setdefault("debounceSeconds", 0)
        self.config, self.key = await make_config(
            self.client, self.admin.headers, self.llm, "OPENAI", *replies, **fields
        )

    async def toggle(self, name: str, enabled: bool) -> None:
        r = await self.client.put(f"/config/{name}", json={"enabled": enabled}, headers=self.admin.headers)
        assert r.status_code == 200, r.text

    async def bot_mode(self, **flags: bool) -> None:
        r = await self.client.put("/config/bot-mode", json=flags, headers=self.admin.headers)
        assert r.status_code == 200, r.text

    async def writes(self, text: str, *, wa_id: str | None = None) -> str:
        """A customer's message stamped now (WhatsApp's timestamps are whole seconds: a test that
        reads the order of messages waits a second between them); the conversation's id."""
        return await self.inbox.customer_writes(text, wa_id=wa_id, timestamp=int(time.time()))

    def sent(self) -> list[dict[str, Any]]:
        """What the number sent through the fake Graph API."""
        return self.graph.sent_by(self.inbox.account.phone_number_id)

    async def replies(self, conversation_id: str) -> list[Message]:
        async with self.runtime.sessionmaker() as session:
            rows = await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.sender_type == SenderType.BOT)
                .order_by(Message.ordered_at)
            )
            return list(rows)

    async def conversation(self, conversation_id: str) -> Conversation:
        async with self.runtime.sessionmaker() as session:
            return await session.get_one(Conversation, conversation_id)

    async def turns(self, conversation_id: str) -> list[BotTurn]:
        async with self.runtime.sessionmaker() as session:
            rows = await session.scalars(
                select(BotTurn).where(BotTurn.conversation_id == conversation_id).order_by(BotTurn.created_at)
            )
            return list(rows)

    async def finished_turns(self, conversation_id: str, count: int = 1) -> list[BotTurn]:
        async def done() -> bool:
            turns = await self.turns(conversation_id)
            return sum(t.state is TurnState.DONE for t in turns) >= count

        await eventually(done, f"{count} finished bot turn(s)")
        return await self.turns(conversation_id)

    async def sent_count(self, count: int) -> list[dict[str, Any]]:
        await eventually(lambda: len(self.sent()) >= count, f"{count} message(s) sent")
        return self.sent()


@pytest.fixture
async def bot(client, runtime, factory, graph, llm) -> BotInbox:
    inbox = await make_inbox(client, runtime, factory, graph)
    setup = BotInbox(inbox, llm, graph)
    await setup.configure()
    await setup.toggle("bot-enabled", True)
    return setup
