"""One provider call about one conversation: classify it against the active config's categories,
write a handoff summary for the agent to review (stored nowhere), or read a tool's arguments out of
it for the agent to check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import ChatMessage, Completion, CompletionRequest, ToolSpec
from cxinbox.auth.principal import Principal
from cxinbox.bot import configs, llm
from cxinbox.bot.llm import target_of
from cxinbox.bot.transcript import DATA_NOTICE, transcript
from cxinbox.conversations import changes
from cxinbox.conversations.repository import visible_conversation
from cxinbox.conversations.timeline import Actor
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import AppError, Conflict
from cxinbox.models.bot import BotConfig
from cxinbox.models.inbox import Conversation, ConversationStatus
from cxinbox.routing.engine import route_conversation
from cxinbox.runtime import Runtime

CLASSIFY_TOOL = "set_category"
NO_CATEGORY = "NONE"
SUMMARY_MAX_TOKENS = 400
EXTRACT_MAX_TOKENS = 600
#: conversations one bulk call classifies at most (the most recently active first)
BULK_LIMIT = 100


class NoCategories(Conflict):
    code = "NO_CATEGORIES"
    message = "The active bot config has no categories to classify with"


async def reclassify(
    session: AsyncSession, runtime: Runtime, principal: Principal, conversation_id: str
) -> Conversation:
    conversation = await visible_conversation(session, principal, conversation_id)
    config = await _classifier(session, principal)
    return await classify(session, runtime, config, conversation, Actor.of(principal))


async def reclassify_many(
    session: AsyncSession,
    runtime: Runtime,
    principal: Principal,
    statuses: list[ConversationStatus] | None,
    only_uncategorized: bool,
) -> dict[str, int]:
    """Classify the organization's conversations in ``statuses`` (default: all but CLOSED), one by
    one, and route each classified one again; a conversation whose call fails counts in ``errors``
    and the others go on."""
    config = await _classifier(session, principal)
    stmt = select(Conversation).where(Conversation.organization_id == principal.organization_id)
    if statuses:
        stmt = stmt.where(Conversation.status.in_(statuses))
    else:
        stmt = stmt.where(Conversation.status != ConversationStatus.CLOSED)
    if only_uncategorized:
        stmt = stmt.where(Conversation.category.is_(None))
    stmt = stmt.order_by(Conversation.last_message_at.desc(), Conversation.id).limit(BULK_LIMIT)
    conversations = (await session.scalars(stmt)).all()
    classified = rerouted = errors = 0
    actor = Actor.of(principal)
    for conversation in conversations:
        try:
            categorized = await classify(session, runtime, config, conversation, actor)
        except AppError:
            errors += 1
            continue
        classified += 1
        # the routing rules may read the new category
        rerouted += (await route_conversation(session, categorized, actor=actor)).changed
    return {"classified": classified, "rerouted": rerouted, "errors": errors, "total": len(conversations)}


async def handoff_summary(
    session: AsyncSession, runtime: Runtime, principal: Principal, conversation_id: str
) -> tuple[str, datetime]:
    conversation = await visible_conversation(session, principal, conversation_id)
    config = await configs.config_or_active(session, principal, None)
    request = CompletionRequest(
        model=config.model,
        system=(
            "You write handoff notes for a customer service agent taking over a conversation from "
            "a bot. In the conversation's own language, in at most five short lines: what the customer "
            "wants, what was already answered or tried, and what is still open. " + DATA_NOTICE
        ),
        messages=[ChatMessage("user", await transcript(session, conversation))],
        temperature=0.2,
        max_tokens=SUMMARY_MAX_TOKENS,
    )
    answer = await llm.complete(session, runtime, config.organization_id, target_of(runtime, config), request)
    return answer.completion.text.strip(), utcnow()


async def tool_arguments(
    session: AsyncSession, runtime: Runtime, principal: Principal, conversation: Conversation, tool: ToolSpec
) -> dict[str, Any]:
    """The arguments the active config's model gives ``tool`` from the conversation (a call to the
    tool, as structured output); empty when it gives none. Unchecked: the caller validates them."""
    config = await configs.config_or_active(session, principal, None)
    request = CompletionRequest(
        model=config.model,
        system=(
            f"Read the customer's conversation and call {tool.name} with the values it gives for the "
            "tool's parameters. Leave out every parameter the conversation does not give: never guess "
            "or invent a value. " + DATA_NOTICE
        ),
        messages=[ChatMessage("user", await transcript(session, conversation))],
        temperature=0,
        max_tokens=EXTRACT_MAX_TOKENS,
        tools=[tool],
    )
    answer = await llm.complete(session, runtime, config.organization_id, target_of(runtime, config), request)
    return next((dict(c.arguments) for c in answer.completion.tool_calls if c.name == tool.name), {})


async def _classifier(session: AsyncSession, principal: Principal) -> BotConfig:
    config = await configs.config_or_active(session, principal, None)
    if not config.categories:
        raise NoCategories()
    return config


async def classify(
    session: AsyncSession, runtime: Runtime, config: BotConfig, conversation: Conversation, actor: Actor
) -> Conversation:
    request = await classification_request(session, config, conversation)
    answer = await llm.complete(session, runtime, config.organization_id, target_of(runtime, config), request)
    return await apply_category(session, config, conversation, answer.completion, actor)


async def classification_request(
    session: AsyncSession, config: BotConfig, conversation: Conversation
) -> CompletionRequest:
    """The call that classifies ``conversation`` against the config's categories."""
    names = [c["name"] for c in config.categories]
    described = "\n".join(
        f"- {c['name']}: {c.get('description') or ''}".rstrip(": ") for c in config.categories
    )
    tool = ToolSpec(
        name=CLASSIFY_TOOL,
        description="Set the conversation's category.",
        parameters={
            "type": "object",
            "properties": {"category": {"type": "string", "enum": [*names, NO_CATEGORY]}},
            "required": ["category"],
        },
    )
    return CompletionRequest(
        model=config.model,
        system=(
            "Classify the customer's conversation into exactly one of these categories, or "
            f"{NO_CATEGORY} when none fits, by calling {CLASSIFY_TOOL}:\n{described}\n" + DATA_NOTICE
        ),
        messages=[ChatMessage("user", await transcript(session, conversation))],
        temperature=0,
        max_tokens=100,
        tools=[tool],
    )


async def apply_category(
    session: AsyncSession, config: BotConfig, conversation: Conversation, completion: Completion, actor: Actor
) -> Conversation:
    """Set the category the model chose (none when it chose no known one)."""
    names = [c["name"] for c in config.categories]
    chosen = next(
        (c.arguments.get("category") for c in completion.tool_calls if c.name == CLASSIFY_TOOL),
        completion.text.strip(),
    )
    category = next(
        (n for n in names if isinstance(chosen, str) and n.casefold() == chosen.strip().casefold()), None
    )
    return await changes.apply(session, conversation, lambda _c: {"category": category}, actor, "re-classify")
