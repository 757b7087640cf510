"""Shadow runs: a config (usually a draft) answers the organization's last recorded customer turns
of the active config, each with the conversation as it was then, and nothing is sent. Set beside
what the active config answered, the report shows the handoff decisions that differ, the replies,
the tokens and the LLM time: what an admin reads before activating a draft.

- The turns are chosen when the run is asked for (the organization's own, never another's): DONE
  turns of the active config that replied or handed off, newest first. Their transcript is rebuilt up
  to the customer message each answered.
- No tool is executed, whether it changes data or only reads: every call the draft makes is answered
  "dry run: the tool was not called" (as the sandbox does by default), and the report lists each with
  its ``changesData`` flag. A read-only tool's answer today would not be the one the recorded turn
  got, and 200 turns of calls to the business's systems are not for a preview to make.
- Nothing is sent and no conversation changes; the draft's tokens count in the month's usage (no
  replies do), as the sandbox's do.
- A config has one unfinished run at most (409). A run left QUEUED or RUNNING longer than
  ``STALE_AFTER`` by a process that stopped is marked FAILED when the next one is asked for.
- Shadowing the active config itself is allowed: a replay, which shows how stable its answers are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import ChatMessage, LlmError
from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.bot import usage
from cxinbox.bot.errors import BotNotAvailable, BotNotConfigured
from cxinbox.bot.mind import read_mind
from cxinbox.bot.repository import BotConfigRepository
from cxinbox.bot.setup import setup_of
from cxinbox.bot.thinking import think
from cxinbox.bot.transcript import MESSAGE_CHARS, transcript
from cxinbox.core.clock import utcnow
from cxinbox.core.db import insert_new, release_transaction
from cxinbox.core.errors import Conflict, NotFound
from cxinbox.core.jobs import Queue, enqueue, job
from cxinbox.core.repository import TenantRepository
from cxinbox.models.bot import BotConfig, BotMode
from cxinbox.models.bot_shadow_runs import ShadowRun, ShadowRunStatus
from cxinbox.models.bot_turns import BotTurn, TurnDecision, TurnState
from cxinbox.models.inbox import Conversation, Message
from cxinbox.models.tools import BotTool
from cxinbox.runtime import Runtime
from cxinbox.studio import shadow_report
from cxinbox.studio.shadow_schemas import ShadowRunDetail, ShadowRunOut, ShadowTurn, StartShadowRun

log = structlog.get_logger(__name__)

STALE_AFTER = timedelta(minutes=30)
#: runs a config's list shows, newest first
LISTED = 50
_COMPARED = (TurnDecision.REPLIED, TurnDecision.HANDOFF)
_UNFINISHED = (ShadowRunStatus.QUEUED, ShadowRunStatus.RUNNING)


class ShadowRunInProgress(Conflict):
    code = "SHADOW_RUN_IN_PROGRESS"
    message = "This config has a shadow run queued or running; wait for it to finish"


class NoRecordedTurns(Conflict):
    code = "NO_RECORDED_TURNS"
    message = "The active config has no recorded customer turns to replay"


class ShadowNeedsLlm(Conflict):
    code = "SHADOW_NEEDS_LLM_MODE"
    message = "A shadow run replays an LLM config; an N8N config answers through its workflow"


class ShadowRunRepository(TenantRepository[ShadowRun]):
    model = ShadowRun
    not_found_message = "Shadow run not found"


async def start(session: AsyncSession, editor: Actor, config_id: str, body: StartShadowRun) -> ShadowRun:
    tenant = editor.principal.tenant
    configs = BotConfigRepository(session, tenant)
    config = await configs.get_or_404(config_id)
    if config.mode is BotMode.N8N:
        raise ShadowNeedsLlm()
    active = await configs.active()
    if active is None:
        raise BotNotAvailable()
    org = config.organization_id
    if body.conversation_ids:
        await _check_conversations(session, org, set(body.conversation_ids))
    turn_ids = await _recorded_turns(session, org, active.id, body.turns, body.conversation_ids)
    if not turn_ids:
        raise NoRecordedTurns()
    await _expire_stale(session, config.id)
    now = utcnow()
    run_id = await insert_new(
        session,
        ShadowRun,
        organization_id=org,
        bot_config_id=config.id,
        active_config_id=active.id,
        status=ShadowRunStatus.QUEUED,
        running_key=config.id,
        turn_ids=turn_ids,
        progress=0,
        report={},
        created_by_id=editor.principal.user_id,
        created_at=now,
        updated_at=now,
    )
    if run_id is None:
        raise ShadowRunInProgress()
    enqueue(session, run_shadow, run_id=run_id)
    editor.record(
        session,
        "bot_config.shadow_run_started",
        target_type="bot_config",
        target_id=config.id,
        details={"runId": run_id, "turns": len(turn_ids)},
    )
    return await ShadowRunRepository(session, tenant).get_or_404(run_id)


async def get(session: AsyncSession, principal: Principal, config_id: str, run_id: str) -> ShadowRun:
    run = await ShadowRunRepository(session, principal.tenant).get_or_404(run_id)
    if run.bot_config_id != config_id:
        raise NotFound(ShadowRunRepository.not_found_message)
    return run


async def list_runs(session: AsyncSession, principal: Principal, config_id: str) -> Sequence[ShadowRun]:
    await BotConfigRepository(session, principal.tenant).get_or_404(config_id)
    repo = ShadowRunRepository(session, principal.tenant)
    stmt = repo.select().where(ShadowRun.bot_config_id == config_id)
    return await repo.list(stmt.order_by(ShadowRun.created_at.desc(), ShadowRun.id.desc()).limit(LISTED))


def present(run: ShadowRun) -> ShadowRunOut:
    return ShadowRunOut(**_fields(run))


def present_detail(run: ShadowRun) -> ShadowRunDetail:
    results = (run.report or {}).get("results") or []
    return ShadowRunDetail(**_fields(run), results=[ShadowTurn.model_validate(r) for r in results])


def _fields(run: ShadowRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "bot_config_id": run.bot_config_id,
        "active_config_id": run.active_config_id,
        "replay": run.active_config_id == run.bot_config_id,
        "status": run.status,
        "requested_turns": len(run.turn_ids or []),
        "progress": run.progress,
        "error": run.error,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "totals": (run.report or {}).get("totals"),
    }


async def _check_conversations(session: AsyncSession, org: str, ids: set[str]) -> None:
    found = await session.scalar(
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.organization_id == org, Conversation.id.in_(ids))
    )
    if found != len(ids):
        raise NotFound("Conversation not found")


async def _recorded_turns(
    session: AsyncSession, org: str, active_id: str, limit: int, conversation_ids: list[str] | None
) -> list[str]:
    stmt = select(BotTurn.id).where(
        BotTurn.organization_id == org,
        BotTurn.bot_config_id == active_id,
        BotTurn.conversation_id.is_not(None),
        BotTurn.state == TurnState.DONE,
        BotTurn.decision.in_(_COMPARED),
    )
    if conversation_ids:
        stmt = stmt.where(BotTurn.conversation_id.in_(conversation_ids))
    stmt = stmt.order_by(BotTurn.created_at.desc(), BotTurn.id.desc()).limit(limit)
    return list(await session.scalars(stmt))


async def _expire_stale(session: AsyncSession, config_id: str) -> None:
    await session.execute(
        update(ShadowRun)
        .where(ShadowRun.running_key == config_id, ShadowRun.updated_at < utcnow() - STALE_AFTER)
        .values(
            status=ShadowRunStatus.FAILED,
            running_key=None,
            error="The run stopped (its process ended before it finished)",
            finished_at=utcnow(),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )


@job("studio.shadow_run", queue=Queue.BULK, attempts=1)
async def run_shadow(runtime: Runtime, session: AsyncSession, run_id: str) -> None:
    run = await session.get(ShadowRun, run_id)
    if run is None or run.status is not ShadowRunStatus.QUEUED:
        return
    config = await session.get(BotConfig, run.bot_config_id)
    if config is None or config.organization_id != run.organization_id:
        return
    org, turn_ids = run.organization_id, list(run.turn_ids or [])
    if not await _save(session, run_id, status=ShadowRunStatus.RUNNING, started_at=utcnow()):
        return
    results: list[ShadowTurn] = []
    skipped = 0
    try:
        changing = await _changing_tools(session, org)
        for turn_id in turn_ids:
            result = await _replay(session, runtime, config, changing, turn_id)
            if result is None:
                skipped += 1
            else:
                results.append(result)
            if not await _save(
                session, run_id, progress=len(results) + skipped, report=_report(results, skipped)
            ):
                return  # the config (and its run) was deleted meanwhile
    except Exception as exc:
        log.exception("shadow_run_failed", run_id=run_id)
        await session.rollback()
        await _end(session, run_id, ShadowRunStatus.FAILED, error=f"The run failed ({type(exc).__name__})")
        return
    await _end(session, run_id, ShadowRunStatus.DONE)


async def _replay(
    session: AsyncSession, runtime: Runtime, config: BotConfig, changing: Mapping[str, bool], turn_id: str
) -> ShadowTurn | None:
    """The draft's answer to one recorded turn beside the recorded one; None when the turn, its
    conversation or its message is gone. The LLM is called outside any transaction."""
    turn = await session.get(BotTurn, turn_id)
    if turn is None or turn.organization_id != config.organization_id or turn.conversation_id is None:
        return None
    conversation = await session.get(Conversation, turn.conversation_id)
    message = await session.get(Message, turn.message_id) if turn.message_id else None
    if conversation is None or message is None or message.organization_id != config.organization_id:
        return None
    text = message.text or (message.media or {}).get("caption") or ""
    reply = await session.get(Message, turn.reply_message_id) if turn.reply_message_id else None
    active = shadow_report.recorded_answer(turn, reply.text if reply else None, changing)
    setup = await setup_of(session, config.organization_id)
    history = [ChatMessage("user", await transcript(session, conversation, until=message))]
    try:
        mind = await read_mind(session, runtime, config, setup.settings, history, text, execute_tools=False)
    except BotNotConfigured as exc:
        draft = shadow_report.failed_answer(exc.message)
    else:
        await release_transaction(session)
        try:
            thought = await think(runtime, mind)
        except LlmError as exc:
            draft = shadow_report.failed_answer(f"{exc.reason}: {exc}")
        else:
            draft = shadow_report.draft_answer(thought, changing)
            await usage.record(session, config.organization_id, thought.usage)
    return shadow_report.compared(turn, text[:MESSAGE_CHARS], active, draft)


async def _changing_tools(session: AsyncSession, org: str) -> dict[str, bool]:
    rows = await session.execute(
        select(BotTool.id, BotTool.changes_data).where(BotTool.organization_id == org)
    )
    return {tool_id: changes for tool_id, changes in rows.all()}


def _report(results: list[ShadowTurn], skipped: int) -> dict[str, Any]:
    return {
        "results": [r.model_dump(mode="json", by_alias=True) for r in results],
        "totals": shadow_report.totals(results, skipped).model_dump(mode="json", by_alias=True),
    }


async def _end(session: AsyncSession, run_id: str, status: ShadowRunStatus, error: str | None = None) -> None:
    await _save(session, run_id, status=status, running_key=None, error=error, finished_at=utcnow())


async def _save(session: AsyncSession, run_id: str, **values: Any) -> bool:
    """Write ``values`` to the run and commit (progress is read while the run goes on)."""
    result = await session.execute(
        update(ShadowRun)
        .where(ShadowRun.id == run_id)
        .values(**values, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await release_transaction(session)
    return result.rowcount == 1  # type: ignore[attr-defined]
