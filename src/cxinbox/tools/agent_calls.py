"""Agents running tools in a conversation they can see: the arguments checked against the tool's
schema (400 naming each one), the call made outside any transaction, then a timeline entry on the
conversation and an audit entry (with the argument names, not their values) for every run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import ToolSpec
from cxinbox.audit.request import Actor
from cxinbox.bot import conversation_ai
from cxinbox.conversations import timeline
from cxinbox.conversations.repository import visible_conversation
from cxinbox.core.db import release_transaction
from cxinbox.core.errors import NotFound
from cxinbox.models.inbox import TimelineKind
from cxinbox.models.tools import BotTool
from cxinbox.runtime import Runtime
from cxinbox.tools import json_schema, runner
from cxinbox.tools.repository import ToolRepository
from cxinbox.tools.schemas import ExecuteTool, ExtractParams


async def agent_tools(session: AsyncSession, actor: Actor) -> Sequence[BotTool]:
    return await ToolRepository(session, actor.principal.tenant).for_agents()


async def extract_params(
    session: AsyncSession, runtime: Runtime, actor: Actor, body: ExtractParams
) -> tuple[dict[str, Any], list[str]]:
    """The active bot config's reading of the tool's arguments from the conversation: the values that
    fit the tool's schema, and the required parameters it could not fill (for the agent to give)."""
    principal = actor.principal
    tool = await _agent_tool(session, actor, body.tool_id)
    conversation = await visible_conversation(session, principal, body.conversation_id)
    spec = ToolSpec(name=tool.name, description=tool.description, parameters=tool.parameters)
    given = await conversation_ai.tool_arguments(session, runtime, principal, conversation, spec)
    known = json_schema.parameter_names(tool.parameters)
    params = {name: value for name, value in given.items() if name in known}
    for problem in json_schema.argument_problems(tool.parameters, params):
        params.pop(problem["field"].removeprefix("params.").split(".")[0], None)  # a value that does not fit
    required = tool.parameters.get("required") or []
    return params, [name for name in required if name not in params]


async def execute(
    session: AsyncSession, runtime: Runtime, actor: Actor, body: ExecuteTool
) -> runner.ToolOutcome:
    principal = actor.principal
    tool = await _agent_tool(session, actor, body.tool_id)
    conversation = await visible_conversation(session, principal, body.conversation_id)
    plan = await runner.prepare(session, runtime.secrets, tool)
    context = await runner.conversation_values(session, conversation)
    await release_transaction(session)
    outcome = runner.refuse_invalid(
        await runner.run(
            plan,
            body.params,
            context,
            allow_private=runtime.settings.allow_private_urls,
            admission=runtime.tool_calls,
        )
    )
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


async def _agent_tool(session: AsyncSession, actor: Actor, tool_id: str) -> BotTool:
    tool = await ToolRepository(session, actor.principal.tenant).get(tool_id)
    if tool is None or not (tool.is_active and tool.available_to_agents):
        raise NotFound("Tool not found")
    return tool
