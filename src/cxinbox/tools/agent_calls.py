"""Agents running tools in a conversation they can see: the arguments checked against the tool's
schema (400 naming each one), the call made outside any transaction, then a timeline entry on the
conversation and an audit entry (with the argument names, not their values) for every run."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.conversations import timeline
from cxinbox.conversations.repository import visible_conversation
from cxinbox.core.db import release_transaction
from cxinbox.core.errors import NotFound, ValidationFailed
from cxinbox.models.inbox import TimelineKind
from cxinbox.models.tools import BotTool
from cxinbox.runtime import Runtime
from cxinbox.tools import json_schema, runner
from cxinbox.tools.repository import ToolRepository
from cxinbox.tools.schemas import ExecuteTool


async def agent_tools(session: AsyncSession, actor: Actor) -> Sequence[BotTool]:
    return await ToolRepository(session, actor.principal.tenant).for_agents()


async def execute(
    session: AsyncSession, runtime: Runtime, actor: Actor, body: ExecuteTool
) -> runner.ToolOutcome:
    principal = actor.principal
    tool = await ToolRepository(session, principal.tenant).get(body.tool_id)
    if tool is None or not (tool.is_active and tool.available_to_agents):
        raise NotFound("Tool not found")
    conversation = await visible_conversation(session, principal, body.conversation_id)
    problems = json_schema.argument_problems(tool.parameters, body.params)
    if problems:
        raise ValidationFailed("The parameters do not match the tool's schema", details=problems)
    plan = await runner.prepare(session, runtime.secrets, tool)
    context = await runner.conversation_values(session, conversation)
    await release_transaction(session)
    outcome = await runner.run(plan, body.params, context, allow_private=runtime.settings.allow_private_urls)
    reason = "tool_call" if outcome.ok else "tool_failed"
    timeline.record(
        session,
        conversation.organization_id,
        conversation.id,
        TimelineKind.TOOL,
        None,
        tool.name,
        timeline.Actor.of(principal),
        reason,
    )
    actor.record(
        session,
        "tool.executed",
        target_type="tool",
        target_id=tool.id,
        details={
            "name": tool.name,
            "conversationId": conversation.id,
            "params": sorted(body.params),
            "ok": outcome.ok,
            "status": outcome.status,
            "latencyMs": outcome.latency_ms,
        },
    )
    return outcome
