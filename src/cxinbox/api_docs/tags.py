"""What the OpenAPI document says about the API as a whole: its areas (tags) and how lists page."""

from __future__ import annotations

DESCRIPTION = """WhatsApp customer-experience platform: LLM bot and multi-user inbox.

Every answer is JSON: `{"data": ...}` on success, `{"error": {"code", "message", "details"?}}` on
failure (see the `Error` schema; each operation lists its error codes).

**Paging.** Lists page in one of three ways, as the reference fixes them:

| style | parameters | `meta` | lists |
|---|---|---|---|
| cursor | `cursor`, `limit` | `nextCursor`, `hasMore` | conversations, contacts, messages, alerts, feedback |
| page | `page`, `limit` | `page`, `limit`, `total`, `totalPages` | users, invitations, admin organizations |
| page-size | `page`, `pageSize` | `page`, `pageSize`, `total`, `totalPages` | failed messages |

A cursor is opaque: pass back `nextCursor` as it came, with the same filters.
"""

TAGS: list[dict[str, str]] = [
    {"name": "auth", "description": "Sign-up, sign-in (password or one-time code), token refresh, me."},
    {"name": "profile", "description": "The signed-in person's own name, avatar and password."},
    {"name": "users", "description": "The organization's people: roles, presence, seats, bulk actions."},
    {"name": "invitations", "description": "Single-use emailed links that add a person to the organization."},
    {"name": "api-keys", "description": "Keys for machine clients, shown in full once at creation."},
    {"name": "teams", "description": "Teams of agents, their members and weekly working hours."},
    {"name": "conversations", "description": "The shared inbox: visibility, status, assignment, timeline."},
    {"name": "messages", "description": "Reading and sending a conversation's messages over WhatsApp."},
    {"name": "failed messages", "description": "Outbound messages that could not be sent: retry or discard."},
    {"name": "contacts", "description": "The customers who wrote in, by WhatsApp id."},
    {"name": "tags", "description": "Labels on conversations."},
    {"name": "quick-replies", "description": "Canned answers with shortcuts, variables and attachments."},
    {"name": "bot-config", "description": "The bot: configs per LLM provider, keys, intents, tests, usage."},
    {
        "name": "bot-studio",
        "description": "Prompt versions, presets, export and import, snapshots, bot templates, feedback.",
    },
    {"name": "writing-assist", "description": "Suggestions that finish what an agent is typing."},
    {"name": "n8n", "description": "Answers of an N8N workflow for the bot (signed, no bearer token)."},
    {"name": "connections", "description": "The business's APIs: a base URL and encrypted credentials."},
    {"name": "tools", "description": "Functions the bot and agents call on the business's APIs."},
    {"name": "agent-tools", "description": "Tools an agent runs in a conversation."},
    {"name": "integrations", "description": "The organization's customer-account lookup by phone number."},
    {"name": "phone-lookup", "description": "Look up a customer's account by phone number."},
    {
        "name": "routing-rules",
        "description": "Which team each new conversation goes to: rules by priority, the default team, "
        "business hours.",
    },
    {
        "name": "knowledge-base",
        "description": "Documents the bot answers from (upload, ingestion status, chunks, retrieval "
        "tests) and the media files it can send.",
    },
    {
        "name": "inbox-data-sources",
        "description": "Lookups on the organization's connections, shown as fields beside a conversation.",
    },
    {"name": "templates", "description": "WhatsApp message templates: managed at Meta, sent to customers."},
    {
        "name": "campaigns",
        "description": "One approved template sent to many customers, each exactly once, at a cost "
        "estimated before sending.",
    },
    {
        "name": "analytics",
        "description": "The organization's figures over a date range, bucketed in the caller's timezone; "
        "AI questions mapped to them.",
    },
    {
        "name": "billing",
        "description": "Plans bought through Stripe: checkout, portal, extra agent seats, previews, "
        "cancellation at the end of the period.",
    },
    {"name": "whatsapp-accounts", "description": "Connected WhatsApp Business numbers and their alerts."},
    {
        "name": "webhooks",
        "description": "Meta's and Stripe's webhooks: verification and signed event deliveries.",
    },
    {"name": "events", "description": "Realtime Server-Sent Events of the organization, with replay."},
    {"name": "files", "description": "Stored files and media, by public or signed URL."},
    {"name": "plans", "description": "The organization's plan, its limits and current usage."},
    {"name": "config", "description": "Organization settings, branding, toggles and public plan data."},
    {"name": "admin", "description": "The platform operator (super admin): organizations, stats, system."},
    {"name": "development", "description": "Simulated customers for local work (off in production)."},
    {"name": "health", "description": "Liveness and readiness of the service and its dependencies."},
]
