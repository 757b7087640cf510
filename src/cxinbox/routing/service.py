"""Rules of routing: the rules themselves, their conflicts, the default team and business hours, and
routing existing conversations again (``re-route``, ``run-now``).

ADMIN changes everything here; every member of the organization reads. A team of another
organization, like a missing one, answers 404; an inactive team answers 400.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.service import record
from cxinbox.auth.principal import Principal
from cxinbox.conversations.assignment import ConversationClosed
from cxinbox.conversations.changes import ConcurrentChange
from cxinbox.conversations.queries import InboxQueries
from cxinbox.conversations.repository import visible_conversation
from cxinbox.conversations.timeline import Actor
from cxinbox.core.clock import utcnow
from cxinbox.core.errors import Forbidden, NotFound, ValidationFailed
from cxinbox.models.identity import Role
from cxinbox.models.inbox import Conversation, ConversationStatus
from cxinbox.models.routing import MatchType, RoutingRule, RoutingSettings
from cxinbox.models.teams import Team
from cxinbox.routing import idle_agents
from cxinbox.routing.business_hours import business_status, exceptions_of, slots_of
from cxinbox.routing.conditions import Condition, InvalidCondition, parse_conditions
from cxinbox.routing.conflicts import RuleShape, conflict
from cxinbox.routing.engine import Router, latest_customer_texts
from cxinbox.routing.repository import RoutingRuleRepository, RoutingSettingsRepository
from cxinbox.routing.schemas import (
    BusinessHoursOut,
    ConflictOut,
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
from cxinbox.runtime import Runtime

#: conversations ``run-now`` reads at a time
RUN_BATCH = 200


def rule_out(rule: RoutingRule) -> RuleOut:
    return RuleOut.model_validate(rule)


def checked_conditions(raw: Any) -> list[Condition]:
    try:
        return parse_conditions(raw)
    except InvalidCondition as exc:
        raise ValidationFailed.field(f"conditions.{exc.index}", exc.message) from None


async def _active_team(session: AsyncSession, principal: Principal, team_id: str, field: str) -> Team:
    team = await session.scalar(
        select(Team).where(Team.id == team_id, Team.organization_id == principal.tenant.organization_id)
    )
    if team is None:
        raise NotFound("Team not found")
    if not team.is_active:
        raise ValidationFailed.field(field, "the team is inactive")
    return team


def _audit(session: AsyncSession, principal: Principal, action: str, rule: RoutingRule) -> None:
    record(
        session, principal, action, target_type="routing_rule", target_id=rule.id, details={"name": rule.name}
    )


# --- rules -----------------------------------------------------------------------------------------


async def list_rules(session: AsyncSession, principal: Principal) -> list[RuleOut]:
    return [rule_out(r) for r in await RoutingRuleRepository(session, principal.tenant).by_priority()]


async def create_rule(session: AsyncSession, principal: Principal, body: CreateRule) -> RuleOut:
    conditions = checked_conditions(body.conditions)
    await _active_team(session, principal, body.team_id, "teamId")
    repo = RoutingRuleRepository(session, principal.tenant)
    rule = repo.add(
        RoutingRule(
            name=body.name,
            team_id=body.team_id,
            conditions=[c.wire() for c in conditions],
            match_type=body.match_type,
            priority=await repo.next_priority(),
            is_active=body.is_active,
        )
    )
    await session.flush()
    _audit(session, principal, "routing_rule.created", rule)
    return rule_out(rule)


async def update_rule(session: AsyncSession, principal: Principal, rule_id: str, body: UpdateRule) -> RuleOut:
    rule = await RoutingRuleRepository(session, principal.tenant).get_or_404(rule_id)
    sent = body.model_fields_set
    for name in ("name", "match_type", "is_active", "team_id", "conditions"):
        if name in sent and getattr(body, name) is None:
            raise ValidationFailed.field(name, "must not be null")
    if body.conditions is not None:
        rule.conditions = [c.wire() for c in checked_conditions(body.conditions)]
    if body.team_id is not None:
        rule.team_id = (await _active_team(session, principal, body.team_id, "teamId")).id
    if body.name is not None:
        rule.name = body.name
    if body.match_type is not None:
        rule.match_type = body.match_type
    if body.is_active is not None:
        rule.is_active = body.is_active
    rule.updated_at = utcnow()
    await session.flush()
    _audit(session, principal, "routing_rule.updated", rule)
    return rule_out(rule)


async def delete_rule(session: AsyncSession, principal: Principal, rule_id: str) -> None:
    repo = RoutingRuleRepository(session, principal.tenant)
    rule = await repo.get_or_404(rule_id)
    _audit(session, principal, "routing_rule.deleted", rule)
    await repo.delete(rule)


async def reorder_rules(session: AsyncSession, principal: Principal, body: ReorderRules) -> list[RuleOut]:
    rules = {r.id: r for r in await RoutingRuleRepository(session, principal.tenant).by_priority()}
    given = body.ordered_ids
    if len(set(given)) != len(given):
        raise ValidationFailed.field("orderedIds", "lists a rule more than once")
    if set(given) != set(rules):
        missing, unknown = set(rules) - set(given), set(given) - set(rules)
        raise ValidationFailed(
            "orderedIds must list every rule of the organization exactly once",
            details=[
                {"field": "orderedIds", "message": "missing rules", "ids": sorted(missing)},
                {"field": "orderedIds", "message": "not rules of the organization", "ids": sorted(unknown)},
            ],
        )
    for priority, rule_id in enumerate(given):
        rules[rule_id].priority = priority
    await session.flush()
    return [rule_out(rules[i]) for i in given]


async def check_conflicts(
    session: AsyncSession,
    principal: Principal,
    team_id: str,
    raw_conditions: str,
    match_type: MatchType,
    exclude_rule_id: str | None,
) -> ConflictsOut:
    try:
        decoded = json.loads(raw_conditions)
    except ValueError:
        raise ValidationFailed.field("conditions", "is not valid JSON") from None
    candidate = RuleShape(team_id, checked_conditions(decoded), match_type is MatchType.ALL)
    rules: Sequence[RoutingRule] = await RoutingRuleRepository(session, principal.tenant).by_priority()
    edited = next((r for r in rules if r.id == exclude_rule_id), None)
    conflicts = []
    for rule in rules:
        if rule.id == exclude_rule_id:
            continue
        runs_first = edited is None or (rule.priority, rule.id) < (edited.priority, edited.id)
        shape = RuleShape(rule.team_id, parse_conditions(rule.conditions), rule.match_type is MatchType.ALL)
        kind = conflict(candidate, shape, other_runs_first=runs_first)
        if kind is not None:
            conflicts.append(
                ConflictOut(
                    rule_id=rule.id, name=rule.name, team_id=rule.team_id, priority=rule.priority, kind=kind
                )
            )
    return ConflictsOut(conflicts=conflicts)


# --- settings --------------------------------------------------------------------------------------


async def default_team(session: AsyncSession, principal: Principal) -> DefaultTeamOut:
    settings = await RoutingSettingsRepository(session, principal.tenant).current()
    return DefaultTeamOut(team_id=settings.default_team_id)


async def put_default_team(
    session: AsyncSession, principal: Principal, body: PutDefaultTeam
) -> DefaultTeamOut:
    if body.team_id is not None:
        await _active_team(session, principal, body.team_id, "teamId")
    settings = await RoutingSettingsRepository(session, principal.tenant).for_update()
    settings.default_team_id = body.team_id
    record(
        session,
        principal,
        "routing.default_team_changed",
        target_type="organization",
        target_id=principal.tenant.organization_id,
        details={"teamId": body.team_id},
    )
    return DefaultTeamOut(team_id=body.team_id)


async def business_hours(session: AsyncSession, principal: Principal) -> BusinessHoursOut:
    settings = await RoutingSettingsRepository(session, principal.tenant).current()
    status = business_status(settings, utcnow())
    return BusinessHoursOut(
        timezone=settings.business_timezone,
        is_enabled=settings.business_hours_enabled,
        slots=slots_of(settings),
        exceptions=exceptions_of(settings),
        is_open=status.is_open,
        next_change=status.next_change,
    )


async def put_business_hours(
    session: AsyncSession, principal: Principal, body: PutBusinessHours
) -> BusinessHoursOut:
    settings = await RoutingSettingsRepository(session, principal.tenant).for_update()
    settings.business_timezone = body.timezone
    settings.business_hours_enabled = body.is_enabled
    settings.business_slots = [s.model_dump(mode="json") for s in body.slots]
    if body.exceptions is not None:
        settings.business_exceptions = [
            e.model_dump(mode="json", exclude={"closed"}) for e in body.exceptions
        ]
    settings.updated_at = utcnow()
    record(
        session,
        principal,
        "routing.business_hours_changed",
        target_type="organization",
        target_id=principal.tenant.organization_id,
    )
    return await business_hours(session, principal)


# --- routing existing conversations ----------------------------------------------------------------


async def reroute(session: AsyncSession, principal: Principal, conversation_id: str) -> Conversation:
    conversation = await visible_conversation(session, principal, conversation_id)
    if not principal.has_role(Role.ADMIN, Role.SUPERVISOR):
        raise Forbidden("Only admins and supervisors move conversations between teams")
    if conversation.status is ConversationStatus.CLOSED:
        raise ConversationClosed("A closed conversation is not routed")
    texts = await latest_customer_texts(session, [conversation.id])
    outcome = await Router(session).route(
        conversation, text=texts.get(conversation.id), actor=Actor.of(principal)
    )
    return outcome.conversation


async def run_now(session: AsyncSession, principal: Principal, body: RunNow) -> RunNowOut:
    """Route again the conversations that are not CLOSED (of ``statuses``; only unassigned ones
    unless ``onlyUnassigned`` is false), oldest first, in batches."""
    statuses = [s for s in (body.statuses or list(ConversationStatus)) if s is not ConversationStatus.CLOSED]
    queries = InboxQueries(session, principal.tenant)
    stmt = queries.select().where(Conversation.status.in_(statuses))
    if body.only_unassigned:
        stmt = stmt.where(Conversation.assigned_to_id.is_(None))
    ids = list(
        await session.scalars(
            stmt.with_only_columns(Conversation.id).order_by(Conversation.created_at, Conversation.id)
        )
    )
    router, actor = Router(session), Actor.of(principal)
    evaluated = rerouted = errors = 0
    for start in range(0, len(ids), RUN_BATCH):
        batch = ids[start : start + RUN_BATCH]
        texts = await latest_customer_texts(session, batch)
        for conversation in await queries.list(queries.select().where(Conversation.id.in_(batch))):
            try:
                outcome = await router.route(
                    conversation, text=texts.get(conversation.id), actor=actor, dry_run=body.dry_run
                )
            except ConcurrentChange:
                errors += 1
                continue
            evaluated += 1
            rerouted += outcome.changed
    return RunNowOut(evaluated=evaluated, rerouted=rerouted, errors=errors, total=len(ids))


async def off_hours(session: AsyncSession, principal: Principal) -> OffHoursOut:
    return OffHoursOut.model_validate(await RoutingSettingsRepository(session, principal.tenant).current())


async def put_off_hours(session: AsyncSession, principal: Principal, body: PutOffHours) -> OffHoursOut:
    settings = await RoutingSettingsRepository(session, principal.tenant).for_update()
    if body.off_hours_message is not None:
        settings.off_hours_message = body.off_hours_message
    if body.off_hours_auto_reply and not settings.off_hours_message:
        raise ValidationFailed.field("offHoursMessage", "is needed to turn the off-hours reply on")
    settings.off_hours_auto_reply = body.off_hours_auto_reply
    _audit_settings(
        session, principal, "routing.off_hours_changed", {"offHoursAutoReply": body.off_hours_auto_reply}
    )
    return OffHoursOut.model_validate(settings)


async def maintenance(session: AsyncSession, principal: Principal) -> MaintenanceOut:
    return MaintenanceOut.model_validate(await RoutingSettingsRepository(session, principal.tenant).current())


async def put_maintenance(
    session: AsyncSession, principal: Principal, body: PutMaintenance
) -> MaintenanceOut:
    """Turning maintenance on starts a new activation: every conversation gets the message again."""
    settings = await RoutingSettingsRepository(session, principal.tenant).for_update()
    if body.maintenance_message is not None:
        settings.maintenance_message = body.maintenance_message
    if body.maintenance_mode and not settings.maintenance_message:
        raise ValidationFailed.field("maintenanceMessage", "is needed to turn maintenance mode on")
    if body.maintenance_mode and not settings.maintenance_mode:
        settings.maintenance_since = utcnow()
    settings.maintenance_mode = body.maintenance_mode
    _audit_settings(
        session, principal, "routing.maintenance_changed", {"maintenanceMode": body.maintenance_mode}
    )
    return MaintenanceOut.model_validate(settings)


def _audit_settings(
    session: AsyncSession, principal: Principal, action: str, details: dict[str, Any]
) -> None:
    record(
        session,
        principal,
        action,
        target_type="organization",
        target_id=principal.tenant.organization_id,
        details=details,
    )


def _idle_out(settings: RoutingSettings) -> IdleAgentOut:
    return IdleAgentOut(
        is_enabled=settings.idle_enabled,
        idle_minutes=settings.idle_minutes,
        action=settings.idle_action,
        only_during_business_hours=settings.idle_only_business_hours,
    )


async def idle_agent(session: AsyncSession, principal: Principal) -> IdleAgentOut:
    return _idle_out(await RoutingSettingsRepository(session, principal.tenant).current())


async def put_idle_agent(session: AsyncSession, principal: Principal, body: PutIdleAgent) -> IdleAgentOut:
    settings = await RoutingSettingsRepository(session, principal.tenant).for_update()
    sent = body.model_dump(exclude_unset=True)
    if any(value is None for value in sent.values()):
        raise ValidationFailed.field(next(k for k, v in sent.items() if v is None), "must not be null")
    columns = {
        "is_enabled": "idle_enabled",
        "idle_minutes": "idle_minutes",
        "action": "idle_action",
        "only_during_business_hours": "idle_only_business_hours",
    }
    for field, value in sent.items():
        setattr(settings, columns[field], value)
    _audit_settings(
        session, principal, "routing.idle_agent_changed", body.model_dump(mode="json", exclude_unset=True)
    )
    return _idle_out(settings)


async def run_idle_agent(session: AsyncSession, runtime: Runtime, principal: Principal) -> IdleRunOut:
    """Run the detection now, with the saved settings (also when the periodic check is off)."""
    settings = await RoutingSettingsRepository(session, principal.tenant).for_update()
    return await idle_agents.detect(session, runtime, settings, utcnow())
