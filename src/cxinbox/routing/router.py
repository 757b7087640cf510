"""``/routing-rules``: which team each conversation goes to, and ``POST /conversations/{id}/re-route``.

Every member of the organization reads the rules and settings; only ADMIN changes them (an AGENT or
a SUPERVISOR gets 403). Another organization's rule or team answers 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, status

from cxinbox.auth.dependencies import AdminDep, MemberDep, ReadSessionDep, RuntimeDep, SessionDep
from cxinbox.auth.scopes import Area, key_scope
from cxinbox.conversations.schemas import ConversationOut
from cxinbox.conversations.serializers import conversation_out
from cxinbox.core.validation import Id
from cxinbox.core.wire import Deleted, Envelope
from cxinbox.models.routing import MatchType
from cxinbox.routing import service
from cxinbox.routing.conditions import MAX_REGEX
from cxinbox.routing.schemas import (
    CONDITIONS_HELP,
    BusinessHoursOut,
    ConflictsOut,
    CreateRule,
    DefaultTeamOut,
    IdleAgentOut,
    IdleRunOut,
    MaintenanceOut,
    OffHoursOut,
    PutBusinessHours,
    PutDefaultTeam,
    PutIdleAgent,
    PutMaintenance,
    PutOffHours,
    ReorderRules,
    RuleOut,
    RunNow,
    RunNowOut,
    UpdateRule,
)

router = APIRouter(prefix="/routing-rules", tags=["routing-rules"], dependencies=[key_scope(Area.SETTINGS)])
reroute_router = APIRouter(
    prefix="/conversations", tags=["conversations"], dependencies=[key_scope(Area.CONVERSATIONS)]
)

ADMIN_ONLY = "ADMIN only."
EVALUATION = (
    "Rules run in priority order (lower first); the first active rule whose conditions match (all of "
    "them for `matchType` ALL, one for ANY) gives the team; when none matches, the default team; "
    "when there is none, no team."
)


@router.get("/default-team", summary="Get the default team for the organization")
async def get_default_team(principal: MemberDep, session: ReadSessionDep) -> Envelope[DefaultTeamOut]:
    return Envelope(data=await service.default_team(session, principal))


@router.put(
    "/default-team",
    summary="Update the default team for the organization (admin only)",
    description=f"{ADMIN_ONLY} `{{teamId}}`: the team of conversations no rule matches; null clears "
    "it. An inactive team answers 400, another organization's 404.",
)
async def put_default_team(
    body: PutDefaultTeam, principal: AdminDep, session: SessionDep
) -> Envelope[DefaultTeamOut]:
    return Envelope(data=await service.put_default_team(session, principal, body))


@router.get(
    "/business-hours",
    summary="Get organization business hours schedule",
    description="Disabled business hours (the default) are always open.",
)
async def get_business_hours(principal: MemberDep, session: ReadSessionDep) -> Envelope[BusinessHoursOut]:
    return Envelope(data=await service.business_hours(session, principal))


@router.put(
    "/business-hours",
    summary="Update organization business hours schedule (admin only)",
    description=f"{ADMIN_ONLY} They decide the `withinBusinessHours` condition.",
)
async def put_business_hours(
    body: PutBusinessHours, principal: AdminDep, session: SessionDep
) -> Envelope[BusinessHoursOut]:
    return Envelope(data=await service.put_business_hours(session, principal, body))


@router.post(
    "/run-now",
    summary="Run routing rules retroactively on existing conversations (admin only)",
    description=f"{ADMIN_ONLY} Routes again the conversations that are not CLOSED, oldest first, and "
    "answers when done. A change of team releases an assignee who is not a member of the new team. "
    "`dryRun` counts without changing anything. " + EVALUATION,
)
async def run_now(
    principal: AdminDep, session: SessionDep, body: Annotated[RunNow | None, Body()] = None
) -> Envelope[RunNowOut]:
    return Envelope(data=await service.run_now(session, principal, body or RunNow()))


@router.get("", summary="List all routing rules ordered by priority", description=EVALUATION)
async def list_rules(principal: MemberDep, session: ReadSessionDep) -> Envelope[list[RuleOut]]:
    return Envelope(data=await service.list_rules(session, principal))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a routing rule (admin only)",
    description=f"{ADMIN_ONLY} A new rule runs last. `teamId`: an active team (another organization's: 404).",
)
async def create_rule(body: CreateRule, principal: AdminDep, session: SessionDep) -> Envelope[RuleOut]:
    return Envelope(data=await service.create_rule(session, principal, body))


@router.get(
    "/check-conflicts",
    summary="Preview conflicts for a routing rule without saving",
    description="DUPLICATE, SHADOWED (an earlier rule matches everything it does) and OVERLAP (both can "
    "match one conversation, with different teams), found from the conditions as written. "
    "`excludeRuleId` leaves out the rule being edited (and then 'earlier' means before it).",
)
async def check_conflicts(
    principal: MemberDep,
    session: ReadSessionDep,
    team_id: Annotated[Id, Query(alias="teamId")],
    conditions: Annotated[
        str,
        Query(
            description=f"JSON-encoded conditions array. {CONDITIONS_HELP}", max_length=20 * (MAX_REGEX + 600)
        ),
    ],
    match_type: Annotated[MatchType, Query(alias="matchType")] = MatchType.ALL,
    exclude_rule_id: Annotated[Id | None, Query(alias="excludeRuleId")] = None,
) -> Envelope[ConflictsOut]:
    found = await service.check_conflicts(
        session, principal, team_id, conditions, match_type, exclude_rule_id
    )
    return Envelope(data=found)


@router.post(
    "/reorder",
    summary="Reorder routing rules by priority (admin only)",
    description=f"{ADMIN_ONLY} `orderedIds` lists every rule exactly once (400 otherwise); answers the "
    "rules in their new order.",
)
async def reorder(body: ReorderRules, principal: AdminDep, session: SessionDep) -> Envelope[list[RuleOut]]:
    return Envelope(data=await service.reorder_rules(session, principal, body))


@router.patch(
    "/{id}",
    summary="Update a routing rule (admin only)",
    description=f"{ADMIN_ONLY} Only the fields sent change.",
)
async def update_rule(
    id: str, body: UpdateRule, principal: AdminDep, session: SessionDep
) -> Envelope[RuleOut]:
    return Envelope(data=await service.update_rule(session, principal, id, body))


@router.delete("/{id}", summary="Delete a routing rule (admin only)", description=ADMIN_ONLY)
async def delete_rule(id: str, principal: AdminDep, session: SessionDep) -> Envelope[Deleted]:
    await service.delete_rule(session, principal, id)
    return Envelope(data=Deleted(id=id))


@reroute_router.post(
    "/{id}/re-route",
    summary="Re-evaluate routing rules and reassign team",
    description="ADMIN and SUPERVISOR (moving a conversation between teams is theirs): an AGENT gets "
    "403 for a conversation it sees, 404 for any other. "
    + EVALUATION
    + " A change of team releases an assignee who is not a member of the new team; a CLOSED "
    "conversation answers 409 CONVERSATION_CLOSED.",
)
async def reroute(id: str, principal: MemberDep, session: SessionDep) -> Envelope[ConversationOut]:
    return Envelope(data=conversation_out(await service.reroute(session, principal, id)))


@router.get("/maintenance", summary="Get organization maintenance mode settings")
async def get_maintenance(principal: MemberDep, session: ReadSessionDep) -> Envelope[MaintenanceOut]:
    return Envelope(data=await service.maintenance(session, principal))


@router.put(
    "/maintenance",
    summary="Update organization maintenance mode settings (admin only)",
    description=f"{ADMIN_ONLY} While maintenance mode is on, a customer who writes gets "
    "`maintenanceMessage` once per conversation (turning it on again sends it again), as a SYSTEM "
    "message, and the bot does not run; routing still applies.",
)
async def put_maintenance(
    body: PutMaintenance, principal: AdminDep, session: SessionDep
) -> Envelope[MaintenanceOut]:
    return Envelope(data=await service.put_maintenance(session, principal, body))


@router.get("/off-hours", summary="Get organization off-hours auto-reply settings")
async def get_off_hours(principal: MemberDep, session: ReadSessionDep) -> Envelope[OffHoursOut]:
    return Envelope(data=await service.off_hours(session, principal))


@router.put(
    "/off-hours",
    summary="Update organization off-hours auto-reply settings (admin only)",
    description=f"{ADMIN_ONLY} While the business hours are closed, a customer who writes gets "
    "`offHoursMessage` once per conversation per closed period, as a SYSTEM message sent like any "
    "other (inside the 24-hour window). Maintenance mode's message takes its place while on.",
)
async def put_off_hours(body: PutOffHours, principal: AdminDep, session: SessionDep) -> Envelope[OffHoursOut]:
    return Envelope(data=await service.put_off_hours(session, principal, body))


@router.get("/idle-agent", summary="Get idle agent detection settings")
async def get_idle_agent(principal: MemberDep, session: ReadSessionDep) -> Envelope[IdleAgentOut]:
    return Envelope(data=await service.idle_agent(session, principal))


@router.put(
    "/idle-agent",
    summary="Update idle agent detection settings (admin only)",
    description=f"{ADMIN_ONLY} Only the fields sent change. An agent is idle when ONLINE with a "
    "HUMAN_HANDLING conversation whose customer has waited for an answer more than `idleMinutes`; "
    "the check runs every minute while `isEnabled`.",
)
async def put_idle_agent(
    body: PutIdleAgent, principal: AdminDep, session: SessionDep
) -> Envelope[IdleAgentOut]:
    return Envelope(data=await service.put_idle_agent(session, principal, body))


@router.post(
    "/idle-agent/run",
    summary="Manually trigger idle agent detection for this org (admin only)",
    description=f"{ADMIN_ONLY} Runs the check now with the saved settings (also when it is off) and "
    "answers what it found and did.",
)
async def run_idle_agent(
    principal: AdminDep, session: SessionDep, runtime: RuntimeDep
) -> Envelope[IdleRunOut]:
    return Envelope(data=await service.run_idle_agent(session, runtime, principal))
