"""Export of the bot's turn traces to Langfuse (optional, off by default: ``Settings.langfuse``).

After a turn's trace is stored (a conversation's turn or the sandbox's), a job posts it to Langfuse's
public ingestion API (``POST {host}/api/public/ingestion``, basic auth ``public:secret``) as one batch:
a ``trace-create`` (the customer's words in, the reply out, the decision in its metadata), a
``generation-create`` per LLM call (model, tokens, time) and a ``span-create`` for the retrieval and
for each tool call. Each event's id is derived from the turn, so a retried batch is deduplicated.

The export never touches the turn or the metrics (they read the local trace): the job runs after the
turn committed, a provider that may recover (a timeout, 429, 5xx) is retried with the job queue's
backoff and then dropped, and anything else (a refused destination, another 4xx) is dropped at once.
Its log lines name the status or the error class, never the keys or the URL's path. The host goes
through the outbound guard like every configured URL.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.config import LangfuseSettings
from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import Queue, enqueue, job
from cxinbox.core.outbound import OutboundClient, OutboundError
from cxinbox.core.wire import iso_utc
from cxinbox.models.bot_turns import BotTurn
from cxinbox.models.inbox import Message
from cxinbox.runtime import Runtime

log = structlog.get_logger(__name__)

PATH = "/api/public/ingestion"
TIMEOUT_SECONDS = 10.0
#: characters of a text (the customer's words, the reply) sent
TEXT_CHARS = 10_000
ATTEMPTS = 5


class LangfuseUnavailable(Exception):
    """A failure that may pass: the job is retried."""


def queue_export(session: AsyncSession, runtime: Runtime, turn_id: str) -> None:
    """Export the turn's trace after ``session`` commits, when Langfuse is configured."""
    if runtime.settings.langfuse is not None:
        enqueue(session, export_trace, turn_id=turn_id)


@job("bot.langfuse_export", queue=Queue.BULK, attempts=ATTEMPTS, backoff_seconds=2.0)
async def export_trace(runtime: Runtime, session: AsyncSession, turn_id: str) -> None:
    target = runtime.settings.langfuse
    turn = await session.get(BotTurn, turn_id)
    if target is None or turn is None:
        return
    batch = await batch_of(session, turn)
    await session.rollback()  # nothing to write: no transaction is held across the call
    await _post(target, turn_id, batch)


async def _post(target: LangfuseSettings, turn_id: str, batch: list[dict[str, Any]]) -> None:
    try:
        async with OutboundClient(allow_private=target.allow_private_urls, timeout=TIMEOUT_SECONDS) as http:
            response = await http.request(
                "POST",
                target.host + PATH,
                json={"batch": batch},
                headers={"Authorization": _basic(target)},
            )
    except OutboundError as exc:
        if exc.retryable:
            raise LangfuseUnavailable(f"Langfuse could not be reached ({type(exc).__name__})") from None
        log.warning("langfuse_export_dropped", turn_id=turn_id, reason=type(exc).__name__)
        return
    status = response.status_code
    if status in (408, 429) or status >= 500:
        raise LangfuseUnavailable(f"Langfuse answered {status}")
    if not response.is_success:
        log.warning("langfuse_export_dropped", turn_id=turn_id, status=status)
        return
    errors = _errors_of(response)
    if errors:
        log.warning("langfuse_export_partial", turn_id=turn_id, rejected=errors, events=len(batch))


def _basic(target: LangfuseSettings) -> str:
    pair = f"{target.public_key}:{target.secret_key}".encode()
    return "Basic " + base64.b64encode(pair).decode()


def _errors_of(response: httpx.Response) -> int:
    """Events Langfuse refused (it answers 207 with ``errors`` rather than a 4xx for bad events)."""
    try:
        body = response.json()
    except ValueError:
        return 0
    errors = body.get("errors") if isinstance(body, dict) else None
    return len(errors) if isinstance(errors, list) else 0


async def batch_of(session: AsyncSession, turn: BotTurn) -> list[dict[str, Any]]:
    """The turn's trace as Langfuse ingestion events."""
    trace = turn.trace or {}
    started, ended = turn.created_at, turn.updated_at
    sandbox = bool(trace.get("sandbox"))
    events = [
        _event(
            "trace-create",
            {
                "id": turn.id,
                "timestamp": iso_utc(started),
                "name": "bot-sandbox-turn" if sandbox else "bot-turn",
                "sessionId": turn.conversation_id,
                "input": await _text(session, turn.message_id),
                "output": await _text(session, turn.reply_message_id),
                "tags": [t for t in ("sandbox" if sandbox else None, trace.get("decision")) if t],
                "metadata": {
                    "organizationId": turn.organization_id,
                    "botConfigId": turn.bot_config_id,
                    "decision": trace.get("decision"),
                    "handoffReason": turn.handoff_reason,
                    "intent": (trace.get("intent") or {}).get("name"),
                    "notes": trace.get("notes") or [],
                },
            },
        ),
        _event(
            "span-create",
            {
                "id": f"{turn.id}-retrieval",
                "traceId": turn.id,
                "name": "retrieval",
                "startTime": iso_utc(started),
                "endTime": iso_utc(started),
                "output": trace.get("retrieval") or [],
            },
        ),
    ]
    at = started
    for index, call in enumerate(trace.get("llmCalls") or []):
        end = at + timedelta(milliseconds=int(call.get("latencyMs") or 0))
        tokens_in, tokens_out = int(call.get("inputTokens") or 0), int(call.get("outputTokens") or 0)
        body = {
            "id": f"{turn.id}-llm-{index}",
            "traceId": turn.id,
            "name": "llm-call",
            "startTime": iso_utc(at),
            "endTime": iso_utc(end),
            "model": call.get("model"),
            "usageDetails": {"input": tokens_in, "output": tokens_out, "total": tokens_in + tokens_out},
            "metadata": {"toolCalls": call.get("toolCalls") or []},
        }
        events.append(_event("generation-create", body))
        at = end
    for index, tool in enumerate(trace.get("tools") or []):
        events.append(_event("span-create", _tool_span(turn, index, tool, at, ended)))
    return events


def _tool_span(
    turn: BotTurn, index: int, tool: dict[str, Any], at: datetime, ended: datetime
) -> dict[str, Any]:
    end = at + timedelta(milliseconds=int(tool.get("latencyMs") or 0))
    return {
        "id": f"{turn.id}-tool-{index}",
        "traceId": turn.id,
        "name": f"tool:{tool.get('name')}",
        "startTime": iso_utc(at),
        "endTime": iso_utc(min(end, max(ended, at))),
        "input": tool.get("arguments"),
        "output": {"ok": tool.get("ok"), "status": tool.get("status"), "error": tool.get("error")},
        "level": "DEFAULT" if tool.get("ok") else "WARNING",
    }


def _event(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"{body['id']}-{kind}", "timestamp": iso_utc(utcnow()), "type": kind, "body": body}


async def _text(session: AsyncSession, message_id: str | None) -> str | None:
    if message_id is None:
        return None
    message = await session.get(Message, message_id)
    if message is None:
        return None
    text = message.text or (message.media or {}).get("caption")
    return text[:TEXT_CHARS] if text else None
