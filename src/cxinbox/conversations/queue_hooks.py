"""Moments when a waiting conversation may find an agent: a conversation was closed, released or
moved to a team; an agent came ONLINE; a team's members or assignment settings changed.

The inbox only says so (``queue_changed``); what runs then is registered by the area that does it
(auto-assignment, ``routing/assigner.py``), so the inbox never imports it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

#: ``hook(session, organization_id)``: schedules its work to run after the session commits
QueueHook = Callable[[AsyncSession, str], None]

_HOOKS: list[QueueHook] = []
_NOTIFIED = "queue_changed_organizations"


def on_queue_changed(hook: QueueHook) -> QueueHook:
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


def queue_changed(session: AsyncSession, organization_id: str) -> None:
    """Tell the hooks once per transaction and organization."""
    notified: set[str] = session.info.setdefault(_NOTIFIED, set())
    if organization_id in notified:
        return
    notified.add(organization_id)
    for hook in _HOOKS:
        hook(session, organization_id)
