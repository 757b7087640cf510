"""Reading what a turn needs before it thinks (``thinking.Mind``), for a conversation's turn and
for the sandbox alike: the config's model and prompt, its intents, the knowledge chunks nearest the
customer's words, the organization's tools for the bot, prepared to run outside the session."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.embeddings import embedder_for
from cxinbox.adapters.llm.base import ChatMessage, ToolSpec
from cxinbox.bot import mind_cache
from cxinbox.bot.llm import target_of
from cxinbox.bot.repository import BotIntentRepository
from cxinbox.bot.thinking import Mind
from cxinbox.core.tenancy import TenantContext
from cxinbox.knowledge.retrieval import Hit, retrieve
from cxinbox.models.bot import BotConfig
from cxinbox.models.inbox import Conversation
from cxinbox.models.organization_settings import OrganizationSettings
from cxinbox.runtime import Runtime
from cxinbox.tools import runner
from cxinbox.tools.repository import ToolRepository

#: knowledge chunks put in the prompt
TOP_CHUNKS = 4


async def read_mind(
    session: AsyncSession,
    runtime: Runtime,
    config: BotConfig,
    settings: OrganizationSettings,
    messages: list[ChatMessage],
    text: str,
    *,
    conversation: Conversation | None = None,
    handoff_summary: str | None = None,
    execute_tools: bool = True,
) -> Mind:
    """``conversation``: the conversation's turn (its values fill the tools' parameters; the sandbox
    has none), whose ``handoff_summary`` the turn read with its setup. A turn's ``config`` comes from
    ``mind_cache``, whose entry holds its intents and tools: they are not read again."""
    tenant = TenantContext.system(config.organization_id)
    standing = mind_cache.holding(config)
    if standing is not None:  # the turn's config: its intents and tools were read with it
        intents, tools = standing.intents, standing.tools
    else:
        intents = tuple(await BotIntentRepository(session, tenant).of_config(config.id))
        tools = tuple(await ToolRepository(session, tenant).for_bot())
    return Mind(
        target=target_of(runtime, config),
        system_prompt=config.system_prompt,
        messages=messages,
        text=text,
        intents=intents,
        hits=await _knowledge(session, runtime, tenant, text),
        tools={t.name: runner.plan_of(runtime.secrets, t, link) for t, link in tools},
        tool_specs=[ToolSpec(t.name, t.description, t.parameters) for t, _ in tools],
        # the values tools fill their parameters with; read only when there is a tool to run
        tool_context=await runner.conversation_values(session, conversation) if tools else {},
        handoff_on_request=settings.bot_handoff_on_request,
        handoff_on_injection=config.handoff_on_injection,
        allow_private=runtime.settings.allow_private_urls,
        execute_tools=execute_tools,
        handoff_summary=handoff_summary,
    )


async def _knowledge(session: AsyncSession, runtime: Runtime, tenant: TenantContext, text: str) -> list[Hit]:
    if not text.strip():
        return []
    found = await retrieve(session, tenant, embedder_for(runtime.settings.embeddings), text, TOP_CHUNKS)
    return found.hits
