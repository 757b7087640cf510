"""Every event type the realtime stream (``GET /events``) carries, with what its ``data`` holds.

The one place a client developer reads to learn the stream: the ``/events`` operation's description
in the OpenAPI document is rendered from it, and a test fails when the code publishes a type that
is not listed here (or lists one nothing publishes). Payloads are named by their OpenAPI schema
(the same body the REST API answers for that resource), or spelled out when they are small.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    #: the OpenAPI component the ``data`` is, or None when ``shape`` spells the ``data`` out
    schema: str | None = None
    shape: str | None = None

    @property
    def payload(self) -> str:
        if self.schema is not None:
            return f"`{self.schema}`"
        return f"`{self.shape}`"


_DELETED = "{id}"

CATALOG: tuple[EventType, ...] = (
    EventType(
        "conversation.created", "A customer wrote in and a new conversation opened.", "ConversationOut"
    ),
    EventType(
        "conversation.updated",
        "A conversation changed: new message, status, assignment, team, priority, tags, unread count. "
        "Whoever could see it before a reassignment receives it too (to drop it from their view).",
        "ConversationOut",
    ),
    EventType(
        "conversation.follow_up_due",
        "A conversation's follow-up `dueAt` arrived (once per follow-up), to those who may see it.",
        "ConversationOut",
    ),
    EventType(
        "conversation.deleted",
        "A simulated conversation was removed (`DELETE /dev/simulate/cleanup`).",
        shape=_DELETED,
    ),
    EventType(
        "message.created", "A message arrived from the customer or was sent from the inbox.", "MessageOut"
    ),
    EventType(
        "message.updated",
        "A message's delivery status (sent, delivered, read, failed), reaction or media changed.",
        "MessageOut",
    ),
    EventType("contact.updated", "A contact's name or category was edited.", "ContactOut"),
    EventType("user.created", "A person was added (created by an admin or joined by invitation).", "UserOut"),
    EventType(
        "user.updated",
        "A person's name, role, teams, activation, presence, avatar or profile changed.",
        "UserOut",
    ),
    EventType("user.deleted", "A person was removed from the organization.", shape=_DELETED),
    EventType("team.created", "A team was created.", "TeamDetail"),
    EventType(
        "team.updated",
        "A team's name, description, activation, members or member roles changed.",
        "TeamDetail",
    ),
    EventType("tag.created", "A tag was created.", "TagOut"),
    EventType("tag.updated", "A tag's name or color changed.", "TagOut"),
    EventType("tag.deleted", "A tag was deleted (it left every conversation).", shape=_DELETED),
    EventType("quick_reply.created", "A quick reply was created.", "QuickReplyOut"),
    EventType(
        "quick_reply.updated",
        "A quick reply's text, shortcut, activation or attachment changed.",
        "QuickReplyOut",
    ),
    EventType("quick_reply.deleted", "A quick reply was deleted.", shape=_DELETED),
    EventType(
        "bot_config.created",
        "A bot config was created or duplicated. Not sent to AGENTs.",
        shape="{id, name}",
    ),
    EventType("bot_config.updated", "A bot config was edited. Not sent to AGENTs.", shape="{id, name}"),
    EventType(
        "bot_config.activated",
        "A bot config became the organization's active one. Not sent to AGENTs.",
        shape="{id, name}",
    ),
    EventType("bot_config.deleted", "A bot config was deleted. Not sent to AGENTs.", shape=_DELETED),
    EventType("tool.created", "A tool the bot or agents can call was created.", "ToolOut"),
    EventType("tool.updated", "A tool's definition, request or availability changed.", "ToolOut"),
    EventType("tool.deleted", "A tool was deleted.", shape=_DELETED),
    EventType(
        "document.updated",
        "A knowledge base document was uploaded, or moved through ingestion (PENDING, PROCESSING "
        "with its progress, READY, FAILED with its error). Not sent to AGENTs.",
        shape="{id, status, progress, chunkCount, error}",
    ),
    EventType(
        "document.deleted", "A knowledge base document was deleted. Not sent to AGENTs.", shape=_DELETED
    ),
    EventType(
        "campaign.updated",
        "A campaign was created or changed: its status, `waitingReason`, spending, and progress "
        "(`counts`, published after each batch and shortly after a burst of delivery statuses and "
        "replies). Admins and supervisors only.",
        "CampaignOut",
    ),
    EventType(
        "template.created", "A template was created (a draft, a copy, or sent to Meta).", "TemplateOut"
    ),
    EventType(
        "template.updated",
        "A template changed: edited, submitted, removed, or its status, category or quality from Meta.",
        "TemplateOut",
    ),
    EventType(
        "whatsapp_account.alert.created",
        "A connected number needs attention (Meta reported a problem). Not sent to AGENTs.",
        "AlertOut",
    ),
    EventType(
        "whatsapp_account.alert.updated",
        "An alert was acknowledged. Not sent to AGENTs.",
        "AlertOut",
    ),
    EventType(
        "whatsapp_account.alerts.acknowledged",
        "Every open alert was acknowledged at once. Not sent to AGENTs.",
        shape="{count, acknowledgedAt, acknowledgedById}",
    ),
    EventType(
        "stream.reset",
        "The stream closes: the listener fell behind (`lagged`) or its access changed "
        "(`access_changed`). Reconnect with `Last-Event-ID` = `lastEventId`.",
        shape="{reason, lastEventId}",
    ),
)

#: Sent by the stream itself, not published by an area.
STREAM_TYPES = frozenset({"stream.reset"})


def markdown_table() -> str:
    """The catalog as the table in the ``/events`` operation's description."""
    rows = [f"| `{e.name}` | {e.description} | {e.payload} |" for e in CATALOG]
    return "\n".join(
        [
            'Each event is `{"type", "data", "occurredAt"}`, its SSE `event:` the type and its `id:` '
            "the position to resume from. Types, and what `data` holds (schemas below):",
            "",
            "| type | when | `data` |",
            "|---|---|---|",
            *rows,
        ]
    )
