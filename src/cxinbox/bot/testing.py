"""``test`` (one completion with the system prompt) and the sandbox (the bot's own turn on a
conversation kept between calls: the customer asking for a person, intents, knowledge, the LLM with
the tools and the handoff tool). Neither touches WhatsApp or the month's replies; their tokens are
counted."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import ChatMessage, CompletionRequest, LlmError, Usage
from cxinbox.auth.principal import Principal
from cxinbox.bot import configs, langfuse, llm, usage
from cxinbox.bot.errors import SandboxNeedsLlm, llm_failure
from cxinbox.bot.mind import read_mind
from cxinbox.bot.repository import SandboxSessionRepository
from cxinbox.bot.schemas import (
    SandboxAction,
    SandboxMessage,
    SandboxReply,
    TestMessage,
    TestReply,
    TokenUsage,
)
from cxinbox.bot.setup import setup_of
from cxinbox.bot.thinking import think
from cxinbox.models.bot import BotConfig, BotMode, BotSandboxSession
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.runtime import Runtime

#: turns of a sandbox session kept (and sent as context)
SANDBOX_TURNS = 40


async def test(session: AsyncSession, runtime: Runtime, principal: Principal, body: TestMessage) -> TestReply:
    config = await configs.config_or_active(session, principal, body.bot_config_id)
    request = CompletionRequest(
        model=config.model,
        system=config.system_prompt or None,
        messages=[ChatMessage("user", body.message)],
        temperature=config.temperature,
        max_tokens=config.max_tokens,
    )
    answer = await llm.complete(
        session, runtime, config.organization_id, llm.target_of(runtime, config), request
    )
    return TestReply(
        reply=answer.completion.text, usage=_usage(answer.completion.usage), latency_ms=answer.latency_ms
    )


async def sandbox(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: SandboxMessage
) -> SandboxReply:
    """The conversation's turn (``thinking.think``) on the session's turns, with a dry sink: nothing
    is sent, the month's replies do not move; the turn's trace is stored (``traceId``)."""
    config = await configs.config_or_active(session, principal, body.bot_config_id)
    if config.mode == BotMode.N8N:
        raise SandboxNeedsLlm()
    chat = await _session(session, principal, config, body)
    setup = await setup_of(session, config.organization_id)
    history = [ChatMessage(t["role"], t["content"]) for t in chat.turns]
    mind = await read_mind(
        session,
        runtime,
        config,
        setup.settings,
        [*history, ChatMessage("user", body.message)],
        body.message,
        execute_tools=body.execute_tools,
    )
    try:
        thought = await think(runtime, mind)
    except LlmError as exc:
        raise llm_failure(exc) from exc
    await usage.record(session, config.organization_id, thought.usage)
    reply = thought.reply or ""
    chat.turns = [
        *chat.turns,
        {"role": "user", "content": body.message},
        {"role": "assistant", "content": reply},
    ][-SANDBOX_TURNS:]
    decision = TurnDecision.HANDOFF if thought.handoff else TurnDecision.REPLIED
    trace = BotTurn(
        organization_id=config.organization_id,
        bot_config_id=config.id,
        state=TurnState.DONE,
        decision=decision,
        handoff_reason=thought.handoff_reason,
        trace={**thought.trace, "decision": decision.value, "latencyMs": thought.latency_ms, "sandbox": True},
    )
    session.add(trace)
    await session.flush()
    langfuse.queue_export(session, runtime, trace.id)
    return SandboxReply(
        session_id=chat.id,
        reply=reply,
        actions=[SandboxAction(**a) for a in thought.actions],
        handoff=thought.handoff,
        usage=_usage(thought.usage),
        latency_ms=thought.latency_ms,
        trace_id=trace.id,
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


def _usage(used: Usage) -> TokenUsage:
    return TokenUsage(input_tokens=used.input_tokens, output_tokens=used.output_tokens)
