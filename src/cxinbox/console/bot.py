"""The bot page: the active config (its key masked, never revealed here), its intents, its prompt's
versions and, for admins, editing the config's prompt, model, temperature and flags, adding and
removing intents, rolling the prompt back to a version, and the sandbox chat. Admins and supervisors
read it, as ``GET /bot-config``; every action is an admin's, through the services of
``/bot-config``."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from cxinbox.bot import configs, intents, testing
from cxinbox.bot.schemas import CreateIntent, SandboxMessage, UpsertBotConfig
from cxinbox.console.admin import actor, again, error_text, notice, perform, refused, text
from cxinbox.console.places import ADMIN, BOT
from cxinbox.console.units import in_unit_of_work
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.core.errors import AppError
from cxinbox.studio import prompt_history

router = APIRouter(include_in_schema=False)
#: what only an admin may do on the page
EDIT = replace(BOT, roles=ADMIN)
DONE = ("bot_saved", "intent_added", "intent_removed", "prompt_rolled_back")
#: the latest prompt versions the page lists
VERSIONS_SHOWN = 50


async def _page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    async with visit.runtime.read_session() as session:
        config = await configs.active_config(session, visit.member)
        shown = None if config is None else configs.present(visit.runtime, config)
        listed = [] if config is None else await intents.list_intents(session, visit.member, config.id)
        versions = [] if config is None else await prompt_history.history(session, visit.member, config.id)
    context.setdefault("notice", notice(visit, DONE))
    return visit.page(
        "console/bot.html",
        status_code,
        config=shown,
        intents=[intents.present(i) for i in listed],
        versions=versions[:VERSIONS_SHOWN],
        editor=visit.member.has_role(*EDIT.roles),
        **context,
    )


@router.get(BOT.path, response_class=HTMLResponse)
async def bot_page(visit: MemberDep) -> Response:
    return refused(visit, BOT) or await _page(visit)


def _config_fields(form: FormData) -> dict[str, object]:
    fields: dict[str, object] = {
        "systemPrompt": text(form, "system_prompt", 20_001),
        "handoffOnInjection": text(form, "handoff_on_injection") == "true",
    }
    for name, key in (("model", "model"), ("temperature", "temperature")):
        if value := text(form, name, 200):
            fields[key] = value
    return fields


@router.post(BOT.path, response_class=HTMLResponse)
async def save_config(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, EDIT):
        return no
    try:
        body = UpsertBotConfig.model_validate(_config_fields(form))
    except ValidationError:
        return await _page(visit, 400, error=visit.t("invalid_form"))
    editor, runtime = actor(visit), visit.runtime
    return await perform(
        visit, lambda s: configs.upsert(s, runtime, editor, body), BOT.path, "bot_saved", again(_page, visit)
    )


@router.post(BOT.path + "/intents", response_class=HTMLResponse)
async def add_intent(visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, EDIT):
        return no
    examples = [line.strip() for line in text(form, "examples", 20_000).splitlines() if line.strip()]
    submitted = {
        "name": text(form, "name", 200),
        "response": text(form, "response", 4097),
        "examples": examples,
    }
    try:
        body = CreateIntent.model_validate(submitted)
    except ValidationError:
        return await _page(visit, 400, error=visit.t("invalid_form"))
    editor = actor(visit)
    return await perform(
        visit, lambda s: intents.create(s, editor, None, body), BOT.path, "intent_added", again(_page, visit)
    )


@router.post(BOT.path + "/intents/{id}/delete", response_class=HTMLResponse)
async def remove_intent(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, EDIT):
        return no
    editor = actor(visit)
    return await perform(
        visit, lambda s: intents.delete(s, editor, id), BOT.path, "intent_removed", again(_page, visit)
    )


@router.post(BOT.path + "/prompt-versions/{id}/activate", response_class=HTMLResponse)
async def roll_back(id: str, visit: MemberDep, form: FormDep) -> Response:
    """The version's text back in its config, itself a new version (as the API's rollback)."""
    if no := refused(visit, EDIT):
        return no
    editor = actor(visit)
    return await perform(
        visit,
        lambda s: prompt_history.rollback(s, editor, id),
        BOT.path,
        "prompt_rolled_back",
        again(_page, visit),
    )


@router.post(BOT.path + "/sandbox", response_class=HTMLResponse)
async def sandbox(visit: MemberDep, form: FormDep) -> Response:
    """One sandbox turn; the page answers with the bot's reply, its actions and any handoff (the
    session's id rides in the form, so the next message continues the conversation)."""
    if no := refused(visit, EDIT):
        return no
    said = text(form, "message", 4001)
    try:
        body = SandboxMessage.model_validate(
            {"message": said, "sessionId": text(form, "session_id", 36) or None}
        )
    except ValidationError:
        return await _page(visit, 400, error=visit.t("invalid_form"))
    principal, runtime = visit.member, visit.runtime
    try:
        reply = await in_unit_of_work(runtime, lambda s: testing.sandbox(s, runtime, principal, body))
    except AppError as exc:
        return await _page(visit, exc.status_code, error=error_text(visit, exc))
    return await _page(visit, said=said, sandbox=reply)
