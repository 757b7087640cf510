"""``test`` (one completion with the system prompt) and the sandbox (a conversation with the config:
intents first, then the LLM with the handoff tool, turns kept between calls). Neither touches
WhatsApp or the month's replies; their tokens are counted."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import ChatMessage, Completion, CompletionRequest, ToolSpec
from cxinbox.adapters.llm.registry import Provider
from cxinbox.auth.principal import Principal
from cxinbox.bot import configs, llm
from cxinbox.bot.matching import first_match
from cxinbox.bot.repository import BotIntentRepository, SandboxSessionRepository
from cxinbox.bot.schemas import (
    SandboxAction,
    SandboxMessage,
    SandboxReply,
    TestMessage,
    TestReply,
    TokenUsage,
)
from cxinbox.core.errors import NotImplementedYet
from cxinbox.models.bot import BotConfig, BotMode, BotSandboxSession, IntentAction
from cxinbox.runtime import Runtime

#: turns of a sandbox session kept (and sent as context)
SANDBOX_TURNS = 40
HANDOFF_TOOL = ToolSpec(
    name="handoff_to_human",
    description="Hand the conversation to a human agent when you cannot help or the customer asks "
    "for a person.",
    parameters={
        "type": "object",
        "properties": {
            "reason": {"type": "string", "description": "Why a human should take over"},
            "summary": {"type": "string", "description": "What the agent needs to know"},
        },
        "required": ["reason"],
    },
)


def target_of(runtime: Runtime, config: BotConfig) -> llm.Target:
    return llm.Target(
        provider=Provider(config.provider),
        model=config.model,
        api_key=configs.api_key(runtime, config),
        base_url=config.base_url,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
    )


async def test(session: AsyncSession, runtime: Runtime, principal: Principal, body: TestMessage) -> TestReply:
    config = await configs.config_or_active(session, principal, body.bot_config_id)
    request = CompletionRequest(
        model=config.model,
        system=config.system_prompt or None,
        messages=[ChatMessage("user", body.message)],
        temperature=config.temperature,
        max_tokens=config.max_tokens,
    )
    answer = await llm.complete(session, runtime, config.organization_id, target_of(runtime, config), request)
    return TestReply(
        reply=answer.completion.text, usage=_usage(answer.completion), latency_ms=answer.latency_ms
    )


async def sandbox(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: SandboxMessage
) -> SandboxReply:
    config = await configs.config_or_active(session, principal, body.bot_config_id)
    if config.mode == BotMode.N8N:
        raise NotImplementedYet(
            "The sandbox of an N8N config needs the bot's turn, which is not available yet"
        )
    chat = await _session(session, principal, config, body)
    actions: list[SandboxAction] = []
    handoff = False
    latency_ms = 0
    usage = TokenUsage(input_tokens=0, output_tokens=0)
    intents = await BotIntentRepository(session, principal.tenant).of_config(config.id)
    intent = first_match(body.message, intents)
    if intent is not None:
        actions.append(SandboxAction(type="INTENT", name=intent.name, detail=intent.action.value))
        handoff = intent.action == IntentAction.HANDOFF
        if intent.action in (IntentAction.TOOL, IntentAction.MEDIA):
            actions.append(SandboxAction(type=intent.action.value, name=intent.name, detail="dry run"))
        reply = intent.response or ""
    else:
        history = [ChatMessage(t["role"], t["content"]) for t in chat.turns]
        request = CompletionRequest(
            model=config.model,
            system=config.system_prompt or None,
            messages=[*history, ChatMessage("user", body.message)],
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            tools=[HANDOFF_TOOL],
        )
        answer = await llm.complete(
            session, runtime, config.organization_id, target_of(runtime, config), request
        )
        reply, latency_ms, usage = answer.completion.text, answer.latency_ms, _usage(answer.completion)
        for call in answer.completion.tool_calls:
            if call.name == HANDOFF_TOOL.name:
                handoff = True
                actions.append(
                    SandboxAction(type="HANDOFF", name=call.name, detail=_text(call.arguments.get("reason")))
                )
    if handoff and not any(a.type == "HANDOFF" for a in actions):
        actions.append(SandboxAction(type="HANDOFF", name=intent.name if intent else None))
    chat.turns = [
        *chat.turns,
        {"role": "user", "content": body.message},
        {"role": "assistant", "content": reply},
    ][-SANDBOX_TURNS:]
    await session.flush()
    return SandboxReply(
        session_id=chat.id,
        reply=reply,
        actions=actions,
        handoff=handoff,
        usage=usage,
        latency_ms=latency_ms,
        trace_id=None,
    )


async def _session(
    session: AsyncSession, principal: Principal, config: BotConfig, body: SandboxMessage
) -> BotSandboxSession:
    repo = SandboxSessionRepository(session, principal.tenant)
    if body.session_id:
        chat = await repo.get_or_404(body.session_id)
        if chat.bot_config_id == config.id and chat.user_id == principal.user_id:
            if body.reset:
                chat.turns = []
            return chat
    chat = repo.add(BotSandboxSession(bot_config_id=config.id, user_id=principal.user_id, turns=[]))
    await repo.flush()
    return chat


def _usage(completion: Completion) -> TokenUsage:
    return TokenUsage(
        input_tokens=completion.usage.input_tokens, output_tokens=completion.usage.output_tokens
    )


def _text(value: Any) -> str | None:
    return value[:500] if isinstance(value, str) else None
