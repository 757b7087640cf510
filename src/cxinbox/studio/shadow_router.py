"""``/bot-config/{id}/shadow-runs``: a config run over recorded customer turns, nothing sent, and its
report (``studio.shadow``). ADMIN starts a run; ADMIN and SUPERVISOR read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status

from cxinbox.auth.dependencies import ReadSessionDep, SessionDep, SupervisorDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.bot.errors import BotNotAvailable
from cxinbox.bot.router import EditorDep
from cxinbox.core.errors import AppError
from cxinbox.core.wire import Envelope
from cxinbox.studio import shadow
from cxinbox.studio.shadow_schemas import ShadowRunDetail, ShadowRunOut, StartShadowRun

router = APIRouter(prefix="/bot-config", tags=["bot-studio"], dependencies=[key_scope(Area.SETTINGS)])

ConfigId = Annotated[str, Path(max_length=36, description="The config to run in the shadow")]
_ADDITION = "Addition: not in the reference."
_READERS = "Admins and supervisors (403 otherwise); another organization's ids answer 404."


@router.post(
    "/{id}/shadow-runs",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Addition: start a shadow run of a config",
    description=f"{_ADDITION} Runs the config (usually a draft) over the organization's last `turns` "
    "(1..200, default 50) recorded customer turns of the active config (optionally only those of "
    "`conversationIds`), each with the conversation as it was then, as a background job: nothing is "
    "sent, no conversation changes and no tool is executed (each call is simulated and listed with "
    "its `changesData` flag). The draft's tokens count in the month's usage. Shadowing the active "
    "config replays it. Answers 202 with the run (QUEUED); read it with `GET …/shadow-runs/{runId}`. "
    "409 `SHADOW_RUN_IN_PROGRESS` while the config has an unfinished run, `NO_RECORDED_TURNS`, "
    "`BOT_NOT_AVAILABLE` without an active config, `SHADOW_NEEDS_LLM_MODE` for an N8N config. "
    "Admins only (403 otherwise).",
    responses=AppError.responses(
        BotNotAvailable, shadow.ShadowRunInProgress, shadow.NoRecordedTurns, shadow.ShadowNeedsLlm
    ),
)
async def start_shadow_run(
    id: ConfigId,
    editor: EditorDep,
    session: SessionDep,
    body: Annotated[StartShadowRun | None, Body()] = None,
) -> Envelope[ShadowRunOut]:
    run = await shadow.start(session, editor, id, body or StartShadowRun())
    return Envelope(data=shadow.present(run))


@router.get(
    "/{id}/shadow-runs",
    summary="Addition: list a config's shadow runs",
    description=f"{_ADDITION} The config's last {shadow.LISTED} runs, newest first, with their totals "
    f"(not the turn-by-turn results). {_READERS}",
)
async def list_shadow_runs(
    id: ConfigId, principal: SupervisorDep, session: ReadSessionDep
) -> Envelope[list[ShadowRunOut]]:
    return Envelope(data=[shadow.present(r) for r in await shadow.list_runs(session, principal, id)])


@router.get(
    "/{id}/shadow-runs/{runId}",
    summary="Addition: get a shadow run and its report",
    description=f"{_ADDITION} Its status (QUEUED, RUNNING, DONE, FAILED), progress, and the report: "
    "turn by turn what the active config answered then and what this config answers (decision, "
    "reply, handoff reason, tokens, LLM time, tools simulated) with whether the handoff decisions "
    "and the replies differ; and the totals (turns compared, handoff disagreements, averages of each "
    f"side). {_READERS}",
)
async def get_shadow_run(
    id: ConfigId,
    run_id: Annotated[str, Path(alias="runId", max_length=36)],
    principal: SupervisorDep,
    session: ReadSessionDep,
) -> Envelope[ShadowRunDetail]:
    return Envelope(data=shadow.present_detail(await shadow.get(session, principal, id, run_id)))
