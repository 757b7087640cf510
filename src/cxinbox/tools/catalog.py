"""The organization's tools: saved only when they can run (a valid parameters schema, templates that
use only known names, a connection of the same organization), each change audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.core.errors import Conflict, ValidationFailed
from cxinbox.core.events import publish_event
from cxinbox.models.tools import BotTool
from cxinbox.runtime import Runtime
from cxinbox.tools import json_schema, runner, templating
from cxinbox.tools.configure import check_destination
from cxinbox.tools.repository import ConnectionRepository, ToolRepository
from cxinbox.tools.schemas import ToolIn, ToolOut, ToolOutcomeOut, ToolTest

TOOL_EVENTS = "tool."


class ToolNameTaken(Conflict):
    code = "TOOL_NAME_TAKEN"
    message = "Another tool of the organization has this name"


async def list_tools(session: AsyncSession, actor: Actor) -> Sequence[BotTool]:
    return await ToolRepository(session, actor.principal.tenant).listed()


async def create_tool(session: AsyncSession, runtime: Runtime, editor: Actor, body: ToolIn) -> BotTool:
    repo = ToolRepository(session, editor.principal.tenant)
    tool = BotTool()
    await _apply(session, runtime, editor, repo, tool, body)
    repo.add(tool)
    await repo.flush()
    _changed(session, editor, "tool.created", tool)
    return tool


async def update_tool(
    session: AsyncSession, runtime: Runtime, editor: Actor, tool_id: str, body: ToolIn
) -> BotTool:
    repo = ToolRepository(session, editor.principal.tenant)
    tool = await repo.get_or_404(tool_id)
    await _apply(session, runtime, editor, repo, tool, body)
    await repo.flush()
    _changed(session, editor, "tool.updated", tool)
    return tool


async def delete_tool(session: AsyncSession, editor: Actor, tool_id: str) -> None:
    tool = await ToolRepository(session, editor.principal.tenant).get_or_404(tool_id)
    await session.delete(tool)
    await session.flush()
    publish_event(session, tool.organization_id, "tool.deleted", {"id": tool.id})
    _audit(session, editor, "tool.deleted", tool)


async def test_tool(runtime: Runtime, editor: Actor, tool_id: str, body: ToolTest) -> ToolOutcomeOut:
    """Run the tool with example arguments (no conversation: its variables are empty). The tool and
    its connection are read in a read session of its own, closed before the call: the route takes
    no session dependency (a dependency that yields costs FastAPI a context manager and a cleanup
    step on every request, a tenth of a tool test's Python work)."""
    async with runtime.read_session() as session:
        tool, connection = await ToolRepository(session, editor.principal.tenant).get_with_connection_or_404(
            tool_id
        )
        plan = runner.plan_of(runtime.secrets, tool, connection)
    outcome = await runner.run(
        plan, body.params, {}, allow_private=runtime.settings.allow_private_urls, admission=runtime.tool_calls
    )
    return outcome_out(runner.refuse_invalid(outcome))


def outcome_out(outcome: runner.ToolOutcome) -> ToolOutcomeOut:
    return ToolOutcomeOut(
        ok=outcome.ok,
        status=outcome.status,
        result=outcome.result,
        truncated=outcome.truncated,
        latency_ms=outcome.latency_ms,
        error=outcome.error,
    )


def present(tool: BotTool) -> ToolOut:
    return ToolOut.model_validate(tool)


async def _apply(
    session: AsyncSession, runtime: Runtime, editor: Actor, repo: ToolRepository, tool: BotTool, body: ToolIn
) -> None:
    problems = json_schema.schema_problems(body.parameters)
    if problems:
        raise ValidationFailed.field("parameters", problems[0])
    _check_placeholders(body)
    if body.url:
        check_destination(body.url, "url", allow_private=runtime.settings.allow_private_urls)
    if body.connection_id is not None:
        await ConnectionRepository(session, editor.principal.tenant).get_or_404(body.connection_id)
    if body.name != tool.name:
        existing = await repo.by_name(body.name)
        if existing is not None and existing.id != tool.id:
            raise ToolNameTaken(details=[{"field": "name", "message": "already used by another tool"}])
    for field in ToolIn.model_fields:
        setattr(tool, field, getattr(body, field))


def _check_placeholders(body: ToolIn) -> None:
    allowed = {f"params.{name}" for name in json_schema.parameter_names(body.parameters)}
    allowed |= set(runner.CONTEXT_VARIABLES)
    templates: dict[str, Any] = {
        "path": body.path or "",
        "url": body.url or "",
        "headers": body.headers,
        "query": body.query,
        "body": body.body,
    }
    for field, template in templates.items():
        unknown = sorted(set(templating.placeholders(template)) - allowed)
        if unknown:
            raise ValidationFailed.field(
                field,
                f"unknown variable {{{{{unknown[0]}}}}}: use params.<a parameter of the schema> or "
                f"{', '.join(runner.CONTEXT_VARIABLES)}",
            )


def _changed(session: AsyncSession, editor: Actor, action: str, tool: BotTool) -> None:
    publish_event(session, tool.organization_id, action, present(tool).model_dump(mode="json", by_alias=True))
    _audit(session, editor, action, tool)


def _audit(session: AsyncSession, editor: Actor, action: str, tool: BotTool) -> None:
    editor.record(session, action, target_type="tool", target_id=tool.id, details={"name": tool.name})
