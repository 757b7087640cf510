"""The bot's answers to callers when there is no bot or its provider fails: an outage elsewhere is a
503 or 429 of ours, never a 500."""

from __future__ import annotations

from cxinbox.adapters.llm.base import (
    LlmAuthFailed,
    LlmDestinationRefused,
    LlmError,
    LlmRateLimited,
    LlmRejected,
)
from cxinbox.conversations.bot_handover import BotNotAvailable
from cxinbox.core.errors import AppError, Conflict, RateLimited, ServiceUnavailable

#: how long a caller waits before asking again after an outage the provider did not time
UNAVAILABLE_RETRY_SECONDS = 30


class BotNotConfigured(Conflict):
    code = "BOT_NOT_CONFIGURED"
    message = "The bot config cannot call its provider (no API key, or LOCAL without a base URL)"


class SandboxNeedsLlm(Conflict):
    """An N8N config's answers come later, from its workflow, to a real conversation's callback:
    the sandbox has no conversation to receive them."""

    code = "SANDBOX_NEEDS_LLM_MODE"
    message = "The sandbox converses with an LLM config; an N8N config answers through its workflow"


class ActiveConfigLocked(Conflict):
    code = "BOT_CONFIG_ACTIVE"
    message = "The active config cannot be deleted; activate another one first"


def llm_failure(error: LlmError) -> AppError:
    """The answer for a provider call that failed (its message never carries the key)."""
    if isinstance(error, LlmRateLimited):
        return RateLimited(
            error.retry_after or UNAVAILABLE_RETRY_SECONDS, "The LLM provider is rate limiting"
        )
    if isinstance(error, LlmAuthFailed | LlmRejected | LlmDestinationRefused):
        return Conflict(str(error), code=error.reason)
    retry = str(error.retry_after or UNAVAILABLE_RETRY_SECONDS)
    return ServiceUnavailable(
        f"The LLM provider is unavailable: {error}", code=error.reason, headers={"Retry-After": retry}
    )


ERRORS = (
    BotNotAvailable,
    BotNotConfigured,
    Conflict(code="LLM_AUTH"),
    Conflict(code="LLM_REJECTED"),
    Conflict(code="DESTINATION_REFUSED"),
    RateLimited,
    ServiceUnavailable(code="LLM_UNAVAILABLE"),
)
