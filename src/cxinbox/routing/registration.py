"""What routing plugs into every process (see ``cxinbox.areas``): auto-assignment runs when the inbox
says a waiting conversation may find an agent, and every minute; so do the idle-agent check and the
follow-up reminders."""

from __future__ import annotations

from cxinbox.conversations.queue_hooks import on_queue_changed
from cxinbox.routing import follow_ups, idle_agents  # noqa: F401 - their @job/@periodic register the minute's checks
from cxinbox.routing.assigner import assign_after_commit


def register() -> None:
    on_queue_changed(assign_after_commit)
