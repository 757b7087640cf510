"""The routing page: the rules in the order they run, and for admins creating, editing and deleting
one, through the services of ``/routing-rules``. A rule is saved only after the conflict check the
API offers (``check-conflicts``): when it finds conflicts the page lists them, and saving anyway is
a second, explicit submit."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from cxinbox.console.admin import again, error_text, notice, perform, refused, text
from cxinbox.console.places import ADMIN, ROUTING
from cxinbox.console.visit import FormDep, MemberDep, Visit
from cxinbox.core.errors import AppError
from cxinbox.models.routing import MatchType
from cxinbox.routing import service
from cxinbox.routing.schemas import CreateRule, UpdateRule
from cxinbox.teams import service as teams

router = APIRouter(include_in_schema=False)
#: what only an admin may do on the page
EDIT = replace(ROUTING, roles=ADMIN)
DONE = ("rule_created", "rule_saved", "rule_deleted")
EXAMPLE = '[{"field": "messageText", "operator": "contains", "value": "invoice"}]'


async def _page(visit: Visit, status_code: int = 200, **context: object) -> Response:
    async with visit.runtime.read_session() as session:
        rules = await service.list_rules(session, visit.member)
        found = await teams.list_teams(session, visit.member, include_inactive=False)
    context.setdefault("notice", notice(visit, DONE))
    return visit.page(
        "console/routing.html",
        status_code,
        rules=[(rule, json.dumps(rule.conditions, ensure_ascii=False)) for rule in rules],
        teams=found,
        team_names={team.id: team.name for team in found},
        match_types=[m.value for m in MatchType],
        example=EXAMPLE,
        editor=visit.member.has_role(*EDIT.roles),
        **context,
    )


@router.get(ROUTING.path, response_class=HTMLResponse)
async def routing_page(visit: MemberDep) -> Response:
    return refused(visit, ROUTING) or await _page(visit)


def _submitted(form: FormData) -> dict[str, Any]:
    return {
        "name": text(form, "name", 200),
        "teamId": text(form, "team_id", 36),
        "matchType": text(form, "match_type", 8),
        "conditions": text(form, "conditions", 20_000),
        "isActive": text(form, "is_active") == "true",
    }


def _body(submitted: dict[str, Any], schema: type[BaseModel]) -> BaseModel:
    """The API's body from the form (raises ValidationError, or ValueError for JSON)."""
    return schema.model_validate({**submitted, "conditions": json.loads(submitted["conditions"])})


async def _save(visit: Visit, form: FormData, rule_id: str | None) -> Response:
    """Create (``rule_id`` None) or update a rule, once the conflict check has passed or been
    answered with "save anyway"."""
    if no := refused(visit, EDIT):
        return no
    submitted = _submitted(form)
    shown_again = again(_page, visit, submitted=submitted, editing=rule_id)
    try:
        body = _body(submitted, UpdateRule if rule_id else CreateRule)
    except (ValidationError, ValueError):
        return await shown_again(400, visit.t("routing_invalid"))
    principal = visit.member
    if text(form, "confirm") != "true":
        try:
            async with visit.runtime.read_session() as session:
                found = await service.check_conflicts(
                    session,
                    principal,
                    submitted["teamId"],
                    submitted["conditions"],
                    MatchType(submitted["matchType"]),
                    rule_id,
                )
        except AppError as exc:
            return await shown_again(exc.status_code, error_text(visit, exc))
        if found.conflicts:
            return await _page(visit, 409, submitted=submitted, editing=rule_id, conflicts=found.conflicts)
    if rule_id is None:
        assert isinstance(body, CreateRule)
        created = body
        return await perform(
            visit,
            lambda s: service.create_rule(s, principal, created),
            ROUTING.path,
            "rule_created",
            shown_again,
        )
    assert isinstance(body, UpdateRule)
    changed, id = body, rule_id
    return await perform(
        visit,
        lambda s: service.update_rule(s, principal, id, changed),
        ROUTING.path,
        "rule_saved",
        shown_again,
    )


@router.post(ROUTING.path, response_class=HTMLResponse)
async def create_rule(visit: MemberDep, form: FormDep) -> Response:
    return await _save(visit, form, None)


@router.post(ROUTING.path + "/{id}", response_class=HTMLResponse)
async def update_rule(id: str, visit: MemberDep, form: FormDep) -> Response:
    return await _save(visit, form, id)


@router.post(ROUTING.path + "/{id}/delete", response_class=HTMLResponse)
async def delete_rule(id: str, visit: MemberDep, form: FormDep) -> Response:
    if no := refused(visit, EDIT):
        return no
    principal = visit.member
    return await perform(
        visit,
        lambda s: service.delete_rule(s, principal, id),
        ROUTING.path,
        "rule_deleted",
        again(_page, visit),
    )
