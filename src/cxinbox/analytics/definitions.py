"""What each figure means: written once, shown in the OpenAPI descriptions and offered to the AI
query as its catalogue. The queries in ``figures.py`` implement exactly these sentences."""

from __future__ import annotations

NEW_CONVERSATIONS = "Conversations created in the range."
CLOSED_CONVERSATIONS = "Conversations closed in the range (by their `closedAt`) and still CLOSED."
INBOUND_MESSAGES = "Messages the customers sent in the range (by the provider's timestamp)."
OUTBOUND_MESSAGES = "Messages sent to customers in the range: agents', the bot's, automatic ones, templates."
FIRST_RESPONSE = (
    "For each conversation created in the range that has a customer message: the time from the "
    "customer's first message to the first reply of an agent or of the bot after it (automatic "
    "messages do not count). Conversations with no such reply yet are counted as `unanswered`."
)
RESOLUTION = "For each conversation closed in the range: the time from its creation to its closing."
BOT_CONVERSATIONS = (
    "Conversations created in the range that the bot handled: it sent a message, or the "
    "conversation was (or still is) BOT_HANDLING."
)
BOT_HANDOFF = "A bot conversation whose status moved from BOT_HANDLING to HUMAN_HANDLING or OPEN."
BOT_RESOLVED = "A bot conversation that is CLOSED and was never handed off."
BOT_RATES = (
    "`resolutionRate` = bot-resolved / bot conversations, `handoffRate` = handed off / bot "
    "conversations (null when there are no bot conversations)."
)
BOT_SESSIONS = (
    "Bot sessions (one stretch of a conversation in BOT_HANDLING) started in the range, by how they "
    "closed: `resolved` (RESOLVED_CONFIRMED: closed while the bot had it), `escalated` (handed to a "
    "human), `abandoned` (the customer went quiet), `open` (not closed yet). Each rate is that count "
    "/ sessions (null without sessions)."
)
BOT_TURNS = (
    "The bot's finished turns on conversations taken in the range (sandbox turns left out): "
    "`replies` the ones that sent an answer, `handoffReasons` the handoffs by reason (largest first), "
    "`tokens` the LLM tokens of all their calls, `latency` the median and mean LLM time (ms) of the "
    "turns that called the model (null when none did)."
)
DURATIONS = (
    "Durations are in seconds: `p50Seconds` is the median (the mean of the two middle values for an "
    "even count), `p90Seconds` the nearest-rank 90th percentile, `meanSeconds` the mean; all null "
    "when `count` is 0."
)
AGENT_ASSIGNED = "Times the conversation was assigned to the agent in the range (an assignment each)."
AGENT_RESOLVED = "Conversations closed in the range while assigned to the agent."
AGENT_FIRST_RESPONSE = (
    "For each assignment to the agent in the range: the time from the assignment to the agent's "
    "first message in that conversation after it (assignments without one are left out)."
)
AGENT_MESSAGES = "Messages the agent sent in the range."
AGENT_ROWS = (
    "One row per member of the organization. An AGENT sees only their own row; a SUPERVISOR or "
    "an ADMIN sees everyone's."
)
CAMPAIGN_FUNNEL = (
    "Campaigns created in the range. Each recipient counts once at the furthest status it reached: "
    "`sent` (SENT, DELIVERED or READ), `delivered` (DELIVERED or READ), `read` (READ); `replied`: "
    "the recipient answered; `failed`: FAILED; `pending`: not sent yet. `spent` is what the rate "
    "card charged (USD), `estimatedCost` what it estimated at creation, `costPerDelivered` = "
    "spent / delivered."
)
