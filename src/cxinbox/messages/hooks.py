"""Moments other areas follow without the inbox knowing them: outbound messages changed (sent,
delivered, read, failed: every ``message.updated``), and customers wrote in.

The inbox only says so; what runs then is registered by the area that cares (campaign recipients
follow their messages, ``campaigns/following.py``), so the inbox never imports it. Hooks run inside
the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.models.inbox import Direction, Message

#: ``hook(session, messages)``: outbound messages whose status (or error) may have changed
OutboundHook = Callable[[AsyncSession, Sequence[Message]], Awaitable[None]]
#: ``hook(session, conversation_ids)``: conversations a customer just wrote in
ReplyHook = Callable[[AsyncSession, Sequence[str]], Awaitable[None]]

_OUTBOUND: list[OutboundHook] = []
_REPLIES: list[ReplyHook] = []


def on_outbound_changed(hook: OutboundHook) -> OutboundHook:
    if hook not in _OUTBOUND:
        _OUTBOUND.append(hook)
    return hook


def on_customer_replied(hook: ReplyHook) -> ReplyHook:
    if hook not in _REPLIES:
        _REPLIES.append(hook)
    return hook


async def outbound_changed(session: AsyncSession, messages: Sequence[Message]) -> None:
    outbound = [m for m in messages if m.direction is Direction.OUTBOUND]
    if outbound:
        for hook in _OUTBOUND:
            await hook(session, outbound)


async def customer_replied(session: AsyncSession, conversation_ids: Sequence[str]) -> None:
    if conversation_ids:
        for hook in _REPLIES:
            await hook(session, conversation_ids)
