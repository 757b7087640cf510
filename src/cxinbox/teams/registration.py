"""What the teams area plugs into every process (see ``cxinbox.areas``)."""

from __future__ import annotations

from cxinbox.realtime.visibility import register_event_filter
from cxinbox.teams.events import TEAM_EVENT_PREFIX, agents_see_their_own_teams


def register() -> None:
    register_event_filter(TEAM_EVENT_PREFIX, agents_see_their_own_teams)
