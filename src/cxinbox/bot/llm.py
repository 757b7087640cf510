"""One provider call for a config: the endpoint built from the config (key decrypted, base URL
resolved, the deployment's private-address switch), the call through the provider's adapter, and its
tokens counted in the month's usage."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import Completion, CompletionRequest, Endpoint, LlmError
from cxinbox.adapters.llm.registry import PROVIDERS, Provider, base_url_for
from cxinbox.bot import configs, usage
from cxinbox.bot.errors import BotNotConfigured, llm_failure
from cxinbox.models.bot import BotConfig
from cxinbox.runtime import Runtime


@dataclass(frozen=True)
class Target:
    """Who answers: a provider, a model and how to reach it (from a bot config or another setting)."""

    provider: Provider
    model: str
    api_key: str | None
    base_url: str | None
    temperature: float | None = None
    max_tokens: int | None = None


def target_of(runtime: Runtime, config: BotConfig) -> Target:
    return Target(
        provider=Provider(config.provider),
        model=config.model,
        api_key=configs.api_key(runtime, config),
        base_url=config.base_url,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
    )


@dataclass(frozen=True)
class Answer:
    completion: Completion
    latency_ms: int


def endpoint_for(runtime: Runtime, target: Target) -> Endpoint:
    info = PROVIDERS[target.provider]
    base_url = base_url_for(target.provider, runtime.settings, target.base_url)
    if base_url is None or (info.needs_key and not target.api_key):
        raise BotNotConfigured()
    return Endpoint(
        base_url=base_url,
        api_key=target.api_key,
        allow_private=runtime.settings.allow_private_urls,
        timeout=runtime.settings.llm_timeout_seconds,
    )


async def call(runtime: Runtime, target: Target, request: CompletionRequest) -> Answer:
    """Call the provider, holding no session (a turn calls it outside any transaction); a failure
    is the adapter's typed ``LlmError``, and the caller counts the tokens."""
    endpoint = endpoint_for(runtime, target)
    started = time.perf_counter()
    completion = await PROVIDERS[target.provider].adapter.complete(endpoint, request)
    return Answer(completion, round((time.perf_counter() - started) * 1000))


async def complete(
    session: AsyncSession, runtime: Runtime, organization_id: str, target: Target, request: CompletionRequest
) -> Answer:
    """Call the provider; its tokens are counted, a failure becomes the caller's 409/429/503."""
    try:
        answer = await call(runtime, target, request)
    except LlmError as exc:
        raise llm_failure(exc) from exc
    await usage.record(session, organization_id, answer.completion.usage)
    return answer
