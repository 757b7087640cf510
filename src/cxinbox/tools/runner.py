"""Running a tool: the one function the bot's tool loop and the agents' ``execute`` share.

``prepare`` reads what the call needs from the database (the tool, its connection, the credentials
decrypted into memory) and ``run`` makes the call without holding a session, so a slow API never
holds a transaction open::

    plan = await prepare(session, runtime.secrets, tool)
    outcome = await run(plan, arguments, await conversation_values(session, conversation),
                        allow_private=runtime.settings.allow_private_urls, admission=runtime.tool_calls)

The bot offers its LLM ``ToolRepository.for_bot()`` (each tool's ``name``, ``description`` and
``parameters``), finds the one called with ``by_name``, and hands ``outcome.for_model()`` back to
the model; ``changes_data`` marks a tool to withhold from a turn the injection guard flagged.

``run`` never raises for a bad argument or a failing API: the ``ToolOutcome`` says ``ok: false``
with an ``error`` the model can read (``refuse_invalid`` turns its ``problems`` into the 400 an
agent's or an admin's request answers), and the result is cut to what is useful
(``resultPath``) and to ``MAX_RESULT_CHARS``. The HTTP call itself takes a slot of ``admission`` (the
runtime's ``tool_calls``): it raises ``AdmissionBusy`` when none frees in time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import NO_VALUE

from cxinbox.core.admission import FairAdmission
from cxinbox.core.crypto import SecretBox
from cxinbox.core.errors import ValidationFailed
from cxinbox.models.inbox import Contact, Conversation
from cxinbox.models.tools import BotTool, Connection
from cxinbox.tools import engine, json_schema, paths
from cxinbox.tools.endpoints import Endpoint, endpoint_of

MAX_RESULT_CHARS = 8000
#: the conversation's variables a template may use (besides ``params.<name>``)
CONTEXT_VARIABLES = {
    "contact.id": "The contact's id",
    "contact.name": "The customer's name",
    "contact.phone": "The customer's number",
    "contact.waId": "The customer's WhatsApp id",
    "conversation.id": "The conversation's id",
    "conversation.status": "The conversation's status",
}


@dataclass(frozen=True)
class ToolPlan:
    organization_id: str
    tool_id: str
    name: str
    parameters: dict[str, Any]
    endpoint: Endpoint | None
    request: engine.RequestTemplate
    result_path: str | None


@dataclass(frozen=True)
class ToolOutcome:
    ok: bool
    status: int | None = None
    result: Any = None
    truncated: bool = False
    latency_ms: int = 0
    error: str | None = None
    problems: list[dict[str, str]] = field(default_factory=list)

    def for_model(self) -> str:
        """The outcome as the text an LLM reads as the tool's result."""
        if self.ok:
            return json.dumps({"ok": True, "result": self.result}, ensure_ascii=False)
        failure: dict[str, Any] = {
            "ok": False,
            "status": self.status,
            "error": self.error,
            "result": self.result,
        }
        if self.problems:
            failure["problems"] = self.problems
        return json.dumps(failure, ensure_ascii=False)


async def prepare(session: AsyncSession, box: SecretBox, tool: BotTool) -> ToolPlan:
    connection = await session.get(Connection, tool.connection_id) if tool.connection_id else None
    return plan_of(box, tool, connection)


def plan_of(box: SecretBox, tool: BotTool, connection: Connection | None) -> ToolPlan:
    """``prepare`` for a caller that read the tool's connection with the tool (one read instead of
    two: ``ToolRepository.get_with_connection_or_404``)."""
    request = engine.RequestTemplate(
        method=tool.method,
        path=tool.path or "",
        query=dict(tool.query or {}),
        headers=dict(tool.headers or {}),
        body=tool.body,
    )
    endpoint: Endpoint | None = None
    if tool.connection_id is not None:
        if (
            connection is not None
            and connection.id == tool.connection_id
            and connection.organization_id == tool.organization_id
            and connection.is_active
        ):
            endpoint = endpoint_of(box, connection)
    elif tool.url:
        origin, rest = split_url(tool.url)
        endpoint = Endpoint(base_url=origin)
        request = replace(request, path=rest)
    return ToolPlan(
        tool.organization_id, tool.id, tool.name, tool.parameters, endpoint, request, tool.result_path
    )


async def run(
    plan: ToolPlan,
    arguments: Any,
    context: dict[str, Any],
    *,
    allow_private: bool,
    admission: FairAdmission,
) -> ToolOutcome:
    problems = json_schema.argument_problems(plan.parameters, arguments)
    if problems:
        return ToolOutcome(ok=False, error="the parameters do not match the tool's schema", problems=problems)
    if plan.endpoint is None:
        return ToolOutcome(ok=False, error="the tool's connection is missing or inactive")
    values = {**context, **{f"params.{name}": value for name, value in arguments.items()}}
    async with admission.slot(plan.organization_id):
        received = await engine.exchange(plan.endpoint, plan.request, values, allow_private=allow_private)
    # the answer is read (decoded, redacted, parsed, logged), and the caller goes on, after the
    # webhooks in flight: reading an answer of up to a megabyte takes milliseconds of CPU
    await admission.give_way()
    answer = engine.read(plan.endpoint, received)
    if answer.error is not None:
        return ToolOutcome(ok=False, latency_ms=answer.latency_ms, error=answer.error)
    result, truncated = trimmed(paths.extract(answer.data, plan.result_path) if answer.ok else answer.data)
    return ToolOutcome(
        ok=answer.ok,
        status=answer.status,
        result=result,
        truncated=truncated,
        latency_ms=answer.latency_ms,
        error=None if answer.ok else f"the service answered {answer.status}",
    )


def refuse_invalid(outcome: ToolOutcome) -> ToolOutcome:
    """``outcome``, or 400 naming each argument that does not fit the tool's schema (no call was made)."""
    if outcome.problems:
        raise ValidationFailed("The parameters do not match the tool's schema", details=outcome.problems)
    return outcome


def trimmed(value: Any, limit: int = MAX_RESULT_CHARS) -> tuple[Any, bool]:
    """``value``, or the start of its JSON text when that is longer than ``limit``."""
    if value is paths.MISSING:
        return None, False
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) <= limit:
        return value, False
    return text[:limit], True


async def conversation_values(session: AsyncSession, conversation: Conversation | None) -> dict[str, Any]:
    """The conversation's template variables; its contact is read unless it was loaded with it (a
    bot turn's conversation comes with its contact: ``setup.turn_setup_of``)."""
    if conversation is None:
        return {}
    contact = inspect(conversation).attrs.contact.loaded_value
    if contact is NO_VALUE or contact is None:
        contact = await session.get(Contact, conversation.contact_id)
    return {
        "contact.id": contact.id if contact else None,
        "contact.name": contact.name if contact else None,
        "contact.phone": contact.phone if contact else None,
        "contact.waId": contact.wa_id if contact else None,
        "conversation.id": conversation.id,
        "conversation.status": conversation.status.value,
    }


def split_url(url: str) -> tuple[str, str]:
    """An absolute URL's origin, and the rest (path and query string)."""
    parts = urlsplit(url)
    rest = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme}://{parts.netloc}", rest
