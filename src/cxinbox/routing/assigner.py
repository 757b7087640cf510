"""Auto-assignment: a team with ``autoAssign`` gives its waiting conversations to its members.

Waiting means OPEN, unassigned and in the team (a BOT_HANDLING conversation waits for its handoff);
the queue is first in, first out (oldest conversation first). A member may take one when they are
ONLINE, active, and hold fewer open (not CLOSED) conversations than the team's
``maxConcurrentPerAgent``, and only while the team's schedule is open. ``ROUND_ROBIN`` gives the
next conversation to the member who was given one longest ago; ``LEAST_BUSY`` to the member holding
the fewest (then round robin among equals).

Each assignment is its own transaction: the member's user row is locked (``FOR UPDATE``; SQLite runs
one write transaction at a time) before their load is counted, and the conversation is claimed
with the compare-and-set of ``conversations/changes.py``. So two processes assigning at once never
give one conversation to two members, nor a member more than their capacity. It runs after
whatever may let a conversation find a member (``conversations/queue_hooks.py``) and every minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.conversations import changes
from cxinbox.conversations.assignment import claim
from cxinbox.conversations.timeline import SYSTEM
from cxinbox.core.clock import utcnow
from cxinbox.core.jobs import enqueue, job
from cxinbox.core.scheduler import periodic
from cxinbox.models.identity import Presence, User
from cxinbox.models.inbox import Conversation, ConversationStatus
from cxinbox.models.teams import AssignmentStrategy, Team, TeamMember, TeamSchedule
from cxinbox.runtime import Runtime
from cxinbox.teams.hours import status_at
from cxinbox.teams.schedules import schedule_out, weekly_schedule

REASON = "AUTO_ASSIGN"
#: assignments of one team in one run, at most (the next run goes on)
MAX_PER_RUN = 1000


@dataclass(frozen=True)
class Candidate:
    user_id: str
    load: int
    last_assigned_at: datetime | None

    def turn(self) -> tuple[bool, datetime | None, str]:
        """Never given one first, then the longest ago."""
        return (self.last_assigned_at is not None, self.last_assigned_at, self.user_id)


def ordered(candidates: Sequence[Candidate], strategy: AssignmentStrategy) -> list[Candidate]:
    if strategy is AssignmentStrategy.LEAST_BUSY:
        return sorted(candidates, key=lambda c: (c.load, *c.turn()))
    return sorted(candidates, key=Candidate.turn)


async def assign_waiting(runtime: Runtime, organization_id: str) -> int:
    """Assign what can be assigned now in the organization's auto-assigning teams; how many."""
    async with runtime.read_session(current=True) as session:
        teams = list(
            await session.scalars(
                select(Team).where(
                    Team.organization_id == organization_id,
                    Team.is_active.is_(True),
                    Team.auto_assign.is_(True),
                )
            )
        )
        open_teams = [t for t in teams if await _team_open(session, t, utcnow())]
    assigned = 0
    for team in open_teams:
        for _ in range(MAX_PER_RUN):
            async with runtime.unit_of_work() as session:
                outcome = await assign_next(session, team)
            if outcome is None:
                break
            assigned += outcome
    return assigned


async def _team_open(session: AsyncSession, team: Team, at: datetime) -> bool:
    row = await session.scalar(select(TeamSchedule).where(TeamSchedule.team_id == team.id))
    return row is None or status_at(weekly_schedule(schedule_out(team, row)), at).is_open


async def assign_next(session: AsyncSession, team: Team) -> bool | None:
    """Give the team's oldest waiting conversation to a member: ``True`` if given, ``False`` if
    someone else changed it first (try the next), ``None`` when nothing more can be given."""
    conversation = await session.scalar(
        select(Conversation)
        .where(
            Conversation.team_id == team.id,
            Conversation.status == ConversationStatus.OPEN,
            Conversation.assigned_to_id.is_(None),
        )
        .order_by(Conversation.created_at, Conversation.id)
        .limit(1)
    )
    if conversation is None:
        return None
    for candidate in ordered(await _candidates(session, team), team.assignment_strategy):
        if not await _has_room(session, candidate.user_id, team.max_concurrent_per_agent):
            continue
        claim_it = _ClaimWaiting(team.id, candidate.user_id)
        try:
            await changes.apply(session, conversation, claim_it, SYSTEM, REASON)
        except changes.ConcurrentChange:
            return False
        if not claim_it.claimed:  # another assigner or an agent took it first
            return False
        await session.execute(
            update(TeamMember)
            .where(TeamMember.team_id == team.id, TeamMember.user_id == candidate.user_id)
            .values(last_assigned_at=utcnow())
        )
        return True
    return None


class _ClaimWaiting:
    """The rule for ``changes.apply``: claim the conversation if it still waits in the team.
    ``claimed`` tells whether the last decision (the one written) was ours."""

    def __init__(self, team_id: str, user_id: str) -> None:
        self.team_id, self.user_id = team_id, user_id
        self.claimed = False

    def __call__(self, c: Conversation) -> dict[str, Any]:
        waiting = (
            c.status is ConversationStatus.OPEN and c.assigned_to_id is None and c.team_id == self.team_id
        )
        values = claim(c, self.user_id, caller_id=None) if waiting else {}
        self.claimed = bool(values)
        return values


def _open_load(user_id: Any) -> Any:
    return (
        select(func.count())
        .select_from(Conversation)
        .where(Conversation.assigned_to_id == user_id, Conversation.status != ConversationStatus.CLOSED)
        .scalar_subquery()
    )


async def _candidates(session: AsyncSession, team: Team) -> list[Candidate]:
    """ONLINE active members with room, as read now (each is checked again, locked, before use)."""
    load = _open_load(TeamMember.user_id).label("load")
    rows = await session.execute(
        select(TeamMember.user_id, load, TeamMember.last_assigned_at)
        .join(User, User.id == TeamMember.user_id)
        .where(
            TeamMember.team_id == team.id,
            User.status == Presence.ONLINE,
            User.is_active.is_(True),
            User.deleted_at.is_(None),
        )
    )
    return [Candidate(u, n, at) for u, n, at in rows.all() if n < team.max_concurrent_per_agent]


async def _has_room(session: AsyncSession, user_id: str, capacity: int) -> bool:
    """Lock the member (so no other assigner counts them meanwhile), then count their load."""
    locked = await session.scalar(
        select(User.id)
        .where(User.id == user_id, User.status == Presence.ONLINE, User.is_active.is_(True))
        .with_for_update()
    )
    if locked is None:
        return False
    load: int = await session.scalar(select(_open_load(user_id))) or 0
    return load < capacity


@job("routing.assign_waiting", attempts=3)
async def assign_waiting_job(runtime: Runtime, session: AsyncSession, organization_id: str) -> None:
    await assign_waiting(runtime, organization_id)


@periodic(every_seconds=60)
@job("routing.assign_everywhere", attempts=1)
async def assign_everywhere(runtime: Runtime, session: AsyncSession) -> None:
    """Catch what no moment announced (a team's hours opening, a job lost in a restart). Reads in a
    read session: each assignment is its own unit of work (on SQLite, one writer at a time)."""
    async with runtime.read_session(current=True) as reader:
        organization_ids = list(
            await reader.scalars(
                select(Team.organization_id)
                .where(Team.auto_assign.is_(True), Team.is_active.is_(True))
                .distinct()
            )
        )
    for organization_id in organization_ids:
        await assign_waiting(runtime, organization_id)


def assign_after_commit(session: AsyncSession, organization_id: str) -> None:
    """The ``queue_changed`` hook: assign in the organization once this transaction commits."""
    enqueue(session, assign_waiting_job, organization_id=organization_id)
