"""What a provider offers and whether a key works, asked of the provider itself; its outages and
refusals are answers (a curated list, ``valid: false``), never a 5xx of ours."""

from __future__ import annotations

import structlog

from cxinbox.adapters.llm.base import ChatMessage, CompletionRequest, LlmError
from cxinbox.adapters.llm.registry import PROVIDERS, Provider
from cxinbox.bot.errors import BotNotConfigured
from cxinbox.bot.llm import Target, endpoint_for
from cxinbox.bot.schemas import KeyValidity, ModelOut, ValidateKey
from cxinbox.runtime import Runtime

log = structlog.get_logger(__name__)
#: the answer's cap when a key is tried (a cap of one token is refused by some reasoning models)
VALIDATION_TOKENS = 16


async def models(runtime: Runtime, provider: Provider, target: Target | None) -> list[ModelOut]:
    """The curated list, merged with the live one when the organization's config for this provider
    can reach it (LOCAL: only the live list of its server)."""
    info = PROVIDERS[provider]
    found: dict[str, str] = dict(info.curated_models)
    if target is not None:
        try:
            live = await info.adapter.list_models(endpoint_for(runtime, target))
        except (LlmError, BotNotConfigured) as exc:
            log.info(
                "bot_models_live_list_failed",
                provider=provider.value,
                reason=getattr(exc, "reason", "not configured"),
            )
        else:
            for model_id, name in live:
                found.setdefault(model_id, name)
    return [ModelOut(id=model_id, name=name) for model_id, name in found.items()]


async def validate_key(runtime: Runtime, body: ValidateKey) -> KeyValidity:
    """A tiny completion with the key: any answer (a refusal too) proves the key."""
    target = Target(body.provider, body.model, body.api_key or None, body.base_url)
    try:
        endpoint = endpoint_for(runtime, target)
        request = CompletionRequest(
            model=body.model,
            system=None,
            messages=[ChatMessage("user", "ping")],
            max_tokens=VALIDATION_TOKENS,
        )
        await PROVIDERS[body.provider].adapter.complete(endpoint, request)
    except BotNotConfigured:
        return KeyValidity(
            valid=False, reason="MISSING_KEY", message="An API key (or, for LOCAL, a base URL) is needed"
        )
    except LlmError as exc:
        return KeyValidity(valid=False, reason=exc.reason, message=str(exc))
    return KeyValidity(valid=True, reason=None, message=None)
