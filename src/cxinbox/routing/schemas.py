from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints

from cxinbox.core.validation import Id
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples
from cxinbox.models.inbox import ConversationStatus
from cxinbox.models.routing import IdleAction, MatchType
from cxinbox.routing.conditions import MAX_CONDITIONS, MAX_REGEX, Operator
from cxinbox.routing.conditions import Field as ConditionField
from cxinbox.routing.conflicts import ConflictKind
from cxinbox.teams.hours import WEEKDAYS, ordered_slots
from cxinbox.teams.schemas import Exceptions, IanaTimezone, ScheduleException, TimeSlot

RuleName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]

CONDITIONS_HELP = (
    "Each `{field, operator, value}`. Fields: "
    + ", ".join(f"`{f.value}`" for f in ConditionField)
    + ". Operators: "
    + ", ".join(f"`{o.value}`" for o in Operator)
    + f". `in`/`notIn` take a list of strings; `withinBusinessHours` takes `true`/`false` with "
    f"`equals`/`notEquals`; every other value is a string. Text compares ignoring case; a `regex` "
    f"(at most {MAX_REGEX} characters) is compiled when saved and runs with a time limit. 1 to "
    f"{MAX_CONDITIONS} conditions; a bad one answers 400 naming its index (`conditions.<i>`)."
)
Conditions = Annotated[list[Any], Field(description=CONDITIONS_HELP)]

_RULE_EXAMPLE = {
    "name": "Billing questions",
    "teamId": "01a24ddb-6a7c-7ac7-aaef-fb9d5951a553",
    "conditions": [{"field": "messageText", "operator": "contains", "value": "invoice"}],
    "matchType": "ALL",
}


class RuleOut(ApiModel):
    model_config = examples(
        _RULE_EXAMPLE
        | {
            "id": "01a24ddc-0b1e-7f53-9a4e-6a2e3c0f1d42",
            "priority": 0,
            "isActive": True,
            "createdAt": "2026-12-07T09:15:55.004841Z",
            "updatedAt": "2026-12-07T09:15:55.004841Z",
        }
    )
    id: str
    name: str
    team_id: str
    conditions: list[dict[str, Any]]
    match_type: MatchType
    priority: int = Field(description="Lower runs first")
    is_active: bool
    created_at: UtcDatetime
    updated_at: UtcDatetime


class CreateRule(RequestModel):
    model_config = examples(_RULE_EXAMPLE)
    name: RuleName
    team_id: Id = Field(description="An active team of the organization")
    conditions: Conditions
    match_type: MatchType = MatchType.ALL
    is_active: bool = Field(default=True, description="Addition: an inactive rule is kept but never fires")


class UpdateRule(RequestModel):
    """Only the fields sent change."""

    name: RuleName | None = None
    team_id: Id | None = None
    conditions: Conditions | None = None
    match_type: MatchType | None = None
    is_active: bool | None = Field(default=None, description="Addition: an inactive rule never fires")


class ReorderRules(RequestModel):
    ordered_ids: list[Id] = Field(
        description="Every rule of the organization exactly once, first to run first"
    )


class ConflictOut(ApiModel):
    rule_id: str
    name: str
    team_id: str
    priority: int
    kind: ConflictKind = Field(
        description="DUPLICATE: same conditions and matchType; SHADOWED: an earlier rule matches "
        "everything this one does, so it never fires; OVERLAP: both can match one conversation and "
        "send it to different teams"
    )


class ConflictsOut(ApiModel):
    conflicts: list[ConflictOut]


class DefaultTeamOut(ApiModel):
    team_id: str | None = Field(description="null: conversations no rule matches get no team")


class PutDefaultTeam(RequestModel):
    model_config = examples({"teamId": "01a24ddb-6a7c-7ac7-aaef-fb9d5951a553"})
    team_id: Id | None = Field(default=None, description="An active team of the organization; null clears it")


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class BusinessSlot(TimeSlot):
    day: Weekday


def _no_overlaps(slots: list[BusinessSlot]) -> list[BusinessSlot]:
    for day in WEEKDAYS:
        ordered_slots(s.slot() for s in slots if s.day == day)
    return sorted(slots, key=lambda s: (WEEKDAYS.index(s.day), s.slot()))


BusinessSlots = Annotated[list[BusinessSlot], Field(max_length=7 * 48), AfterValidator(_no_overlaps)]


class PutBusinessHours(RequestModel):
    model_config = examples(
        {
            "timezone": "Europe/Madrid",
            "isEnabled": True,
            "slots": [{"day": "monday", "start": "09:00", "end": "18:00"}],
        }
    )
    timezone: IanaTimezone = Field(description="An IANA timezone name")
    is_enabled: bool = Field(description="`false`: always within business hours")
    slots: BusinessSlots = Field(
        default=[],
        description="`{day: monday..sunday, start: HH:MM, end: HH:MM}`, wall-clock times of `timezone`; "
        "a day without slots is closed. Times follow the rules of team schedules (DST included).",
    )
    exceptions: Exceptions | None = Field(
        default=None,
        description="Addition: dates with their own slots (none: closed), as in team schedules; left "
        "out: the current ones are kept",
    )


class BusinessHoursOut(ApiModel):
    timezone: str
    is_enabled: bool
    slots: list[BusinessSlot]
    exceptions: list[ScheduleException]
    is_open: bool = Field(description="Addition: within business hours now")
    next_change: UtcDatetime | None = Field(
        description="Addition: when that next changes (UTC); null if never within 400 days"
    )


class RunNow(RequestModel):
    statuses: list[ConversationStatus] | None = Field(
        default=None, description="Only conversations in these statuses (CLOSED ones are never touched)"
    )
    only_unassigned: bool = Field(default=True, description="Only conversations nobody is assigned to")
    dry_run: bool = Field(default=False, description="Count what would change, change nothing")


class RunNowOut(ApiModel):
    evaluated: int
    rerouted: int = Field(description="Conversations whose team changed (or would, in a dry run)")
    errors: int
    total: int = Field(description="Conversations the run looked at")


AutoReplyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]


class OffHoursOut(ApiModel):
    off_hours_auto_reply: bool
    off_hours_message: str | None


class PutOffHours(RequestModel):
    model_config = examples(
        {"offHoursAutoReply": True, "offHoursMessage": "We are closed; we answer from 9:00."}
    )
    off_hours_auto_reply: bool = Field(
        description="Reply once per conversation per closed period of the business hours, as a SYSTEM message"
    )
    off_hours_message: AutoReplyText | None = Field(
        default=None, description="The reply (at most 4096 characters); left out: kept. Needed to turn it on."
    )


class MaintenanceOut(ApiModel):
    maintenance_mode: bool
    maintenance_message: str | None
    maintenance_since: UtcDatetime | None = Field(description="Addition: when maintenance mode was turned on")


class PutMaintenance(RequestModel):
    model_config = examples({"maintenanceMode": True, "maintenanceMessage": "We are under maintenance."})
    maintenance_mode: bool = Field(
        description="While on, each conversation gets the message once (per activation) and the bot "
        "does not run; routing still applies"
    )
    maintenance_message: AutoReplyText | None = Field(
        default=None, description="At most 4096 characters; left out: kept. Needed to turn it on."
    )


class IdleAgentOut(ApiModel):
    is_enabled: bool = Field(description="The check runs every minute")
    idle_minutes: int = Field(description="How long a customer may wait for an answer")
    action: IdleAction = Field(description="SET_AWAY the agent, RELEASE their waiting conversations, or BOTH")
    only_during_business_hours: bool


class PutIdleAgent(RequestModel):
    """Only the fields sent change."""

    model_config = examples({"isEnabled": True, "idleMinutes": 15, "action": "BOTH"})
    is_enabled: bool | None = None
    idle_minutes: int | None = Field(default=None, ge=1, le=24 * 60)
    action: IdleAction | None = None
    only_during_business_hours: bool | None = None


class IdleRunOut(ApiModel):
    checked: int = Field(description="ONLINE agents looked at")
    idle_agents: list[str] = Field(description="Ids of the agents found idle")
    released: int = Field(description="Conversations released back to their queue")
