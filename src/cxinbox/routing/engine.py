"""Routing a conversation: the first active rule (by priority) whose conditions match gives its
team; when none matches, the organization's default team; when there is none, no team.

``route_conversation`` is the one entry point: the inbound pipeline calls it for every conversation
it opens, the bot when it hands a conversation off, ``re-route`` and ``run-now`` for existing ones.
A change of team is a timeline entry (reason ``ROUTING``) and a ``conversation.updated`` event; an
assignee who is not a member of the new team is released (the conversation goes back to the queue).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations import changes, timeline
from cxinbox.conversations.assignment import release
from cxinbox.conversations.queue_hooks import queue_changed
from cxinbox.conversations.timeline import SYSTEM, Actor
from cxinbox.core.clock import utcnow
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.inbox import Conversation, Message, SenderType, TimelineKind
from cxinbox.models.routing import MatchType
from cxinbox.models.teams import Team, TeamMember
from cxinbox.routing.business_hours import business_status
from cxinbox.routing.conditions import Condition, Facts, Field, InvalidCondition, matches, parse_conditions
from cxinbox.routing.repository import RoutingRuleRepository, RoutingSettingsRepository

log = structlog.get_logger(__name__)

REASON = "ROUTING"


@dataclass(frozen=True)
class CompiledRule:
    id: str
    team_id: str
    conditions: tuple[Condition, ...]
    match_all: bool


@dataclass(frozen=True)
class Decision:
    team_id: str | None
    #: the rule that matched; ``None`` when the default team (or no team) applies
    rule_id: str | None = None


@dataclass(frozen=True)
class Plan:
    """What routing needs of an organization, read once for many conversations."""

    rules: tuple[CompiledRule, ...]
    default_team_id: str | None
    within_business_hours: bool

    def decide(self, facts: Facts) -> Decision:
        for rule in self.rules:
            if matches(rule.conditions, rule.match_all, facts):
                return Decision(rule.team_id, rule.id)
        return Decision(self.default_team_id)


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    #: the conversation's team changed (or would, in a dry run)
    changed: bool
    conversation: Conversation


async def load_plan(session: AsyncSession, tenant: TenantContext, at: datetime) -> Plan:
    rules = []
    for rule in await RoutingRuleRepository(session, tenant).firing():
        try:
            conditions = tuple(parse_conditions(rule.conditions))
        except InvalidCondition:  # saved rules were checked: only a rule stored by hand lands here
            log.warning("routing_rule_unreadable", rule_id=rule.id)
            continue
        rules.append(CompiledRule(rule.id, rule.team_id, conditions, rule.match_type is MatchType.ALL))
    settings = await RoutingSettingsRepository(session, tenant).current()
    default_team_id = settings.default_team_id
    if default_team_id is not None and not await _active_team(session, default_team_id):
        default_team_id = None
    return Plan(tuple(rules), default_team_id, business_status(settings, at).is_open)


async def _active_team(session: AsyncSession, team_id: str) -> bool:
    return await session.scalar(select(Team.is_active).where(Team.id == team_id)) is True


def facts_of(conversation: Conversation, text: str | None, within_business_hours: bool) -> Facts:
    contact = conversation.contact

    def one(value: str | None) -> list[str]:
        return [] if value is None else [value]

    return {
        Field.MESSAGE_TEXT: one(text),
        Field.CATEGORY: one(conversation.category),
        Field.CONTACT_CATEGORY: one(contact.category),
        Field.WHATSAPP_ACCOUNT_ID: [conversation.whatsapp_account_id],
        Field.TAG: [tag.name for tag in conversation.tags],
        Field.ORIGIN: [conversation.origin.value],
        Field.CONTACT_PHONE: one(contact.phone),
        Field.WITHIN_BUSINESS_HOURS: ["true" if within_business_hours else "false"],
    }


async def latest_customer_texts(session: AsyncSession, conversation_ids: Sequence[str]) -> dict[str, str]:
    """The text of each conversation's latest customer message that has one."""
    ranked = (
        select(
            Message.conversation_id,
            Message.text,
            func.row_number()
            .over(
                partition_by=Message.conversation_id, order_by=(Message.ordered_at.desc(), Message.id.desc())
            )
            .label("n"),
        )
        .where(
            Message.conversation_id.in_(list(conversation_ids)),
            Message.sender_type == SenderType.CUSTOMER,
            Message.text.is_not(None),
        )
        .subquery()
    )
    rows = await session.execute(select(ranked.c.conversation_id, ranked.c.text).where(ranked.c.n == 1))
    return {conversation_id: text for conversation_id, text in rows.all()}


@dataclass
class Router:
    """Routes conversations of any organization, reading each organization's plan once."""

    session: AsyncSession
    at: datetime = field(default_factory=utcnow)
    _plans: dict[str, Plan] = field(default_factory=dict)

    async def plan(self, organization_id: str) -> Plan:
        if organization_id not in self._plans:
            self._plans[organization_id] = await load_plan(
                self.session, TenantContext.system(organization_id), self.at
            )
        return self._plans[organization_id]

    async def route(
        self,
        conversation: Conversation,
        *,
        text: str | None,
        opened: bool = False,
        actor: Actor = SYSTEM,
        dry_run: bool = False,
    ) -> Outcome:
        plan = await self.plan(conversation.organization_id)
        decision = plan.decide(facts_of(conversation, text, plan.within_business_hours))
        changed = decision.team_id != conversation.team_id
        if not changed or dry_run:
            return Outcome(decision, changed, conversation)
        if opened:
            _set_team_of_new(self.session, conversation, decision.team_id)
            return Outcome(decision, True, conversation)
        members = await _members(self.session, decision.team_id)

        def decide(c: Conversation) -> dict[str, Any]:
            values: dict[str, Any] = {"team_id": decision.team_id}
            if c.assigned_to_id is not None and c.assigned_to_id not in members:
                values |= release(c)
            return values

        conversation = await changes.apply(self.session, conversation, decide, actor, REASON)
        return Outcome(decision, True, conversation)


def _set_team_of_new(session: AsyncSession, conversation: Conversation, team_id: str | None) -> None:
    """A conversation the caller just opened and holds locked (no assignee yet): its team is set in
    place, and the caller's ``conversation.created`` carries it."""
    before = conversation.team_id
    conversation.team_id = team_id
    if team_id is not None:
        queue_changed(session, conversation.organization_id)
    timeline.record(
        session,
        conversation.organization_id,
        conversation.id,
        TimelineKind.TEAM,
        before,
        team_id,
        SYSTEM,
        REASON,
    )


async def _members(session: AsyncSession, team_id: str | None) -> frozenset[str]:
    if team_id is None:
        return frozenset()
    found: Iterable[str] = await session.scalars(
        select(TeamMember.user_id).where(TeamMember.team_id == team_id)
    )
    return frozenset(found)


async def route_conversation(
    session: AsyncSession,
    conversation: Conversation,
    *,
    text: str | None = None,
    opened: bool = False,
    actor: Actor = SYSTEM,
) -> Outcome:
    """Route one conversation. ``text`` is the customer's message to read (default: their latest);
    ``opened``: the caller has just created the conversation, holds it locked and publishes it."""
    if text is None:
        text = (await latest_customer_texts(session, [conversation.id])).get(conversation.id)
    return await Router(session).route(conversation, text=text, opened=opened, actor=actor)
