"""The six providers: each is one wire format (an adapter), a default base URL and a curated list of
models. ``CXINBOX_<PROVIDER>_BASE_URL`` overrides a default base, and a config's ``baseUrl``
overrides both; LOCAL has no default (an OpenAI-compatible server the organization runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cxinbox.adapters.llm.anthropic_messages import AnthropicMessages
from cxinbox.adapters.llm.base import ProviderAdapter
from cxinbox.adapters.llm.google_generate import GoogleGenerate
from cxinbox.adapters.llm.openai_chat import OpenAIChat
from cxinbox.config import Settings


class Provider(StrEnum):
    OPENAI = "OPENAI"
    ANTHROPIC = "ANTHROPIC"
    GOOGLE = "GOOGLE"
    DEEPSEEK = "DEEPSEEK"
    KIMI = "KIMI"
    LOCAL = "LOCAL"


@dataclass(frozen=True)
class ProviderInfo:
    adapter: ProviderAdapter
    #: the public API base as the provider's SDK takes it (None: the config must give one)
    default_base_url: str | None
    #: ``(id, name)`` offered even when the live list cannot be read
    curated_models: tuple[tuple[str, str], ...]
    #: whether a call needs an API key (a local server usually does not)
    needs_key: bool = True


_CHAT = OpenAIChat()
PROVIDERS: dict[Provider, ProviderInfo] = {
    Provider.OPENAI: ProviderInfo(
        OpenAIChat(max_tokens_field="max_completion_tokens"),
        "https://api.openai.com/v1",
        (
            ("gpt-4.1", "GPT-4.1"),
            ("gpt-4.1-mini", "GPT-4.1 mini"),
            ("gpt-4o", "GPT-4o"),
            ("gpt-4o-mini", "GPT-4o mini"),
        ),
    ),
    Provider.ANTHROPIC: ProviderInfo(
        AnthropicMessages(),
        "https://api.anthropic.com",
        (
            ("claude-sonnet-4-5", "Claude Sonnet 4.5"),
            ("claude-haiku-4-5", "Claude Haiku 4.5"),
            ("claude-opus-4-1", "Claude Opus 4.1"),
        ),
    ),
    Provider.GOOGLE: ProviderInfo(
        GoogleGenerate(),
        "https://generativelanguage.googleapis.com",
        (
            ("gemini-2.5-flash", "Gemini 2.5 Flash"),
            ("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite"),
            ("gemini-2.5-pro", "Gemini 2.5 Pro"),
        ),
    ),
    Provider.DEEPSEEK: ProviderInfo(
        _CHAT,
        "https://api.deepseek.com/v1",
        (("deepseek-chat", "DeepSeek Chat"), ("deepseek-reasoner", "DeepSeek Reasoner")),
    ),
    Provider.KIMI: ProviderInfo(
        _CHAT,
        "https://api.moonshot.ai/v1",
        (("kimi-k2-0905-preview", "Kimi K2"), ("moonshot-v1-8k", "Moonshot v1 8k")),
    ),
    Provider.LOCAL: ProviderInfo(_CHAT, None, (), needs_key=False),
}


def base_url_for(provider: Provider, settings: Settings, configured: str | None) -> str | None:
    """The base a call goes to: the config's, else the deployment's override, else the public one."""
    if configured:
        return configured
    override = {
        Provider.OPENAI: settings.openai_base_url,
        Provider.ANTHROPIC: settings.anthropic_base_url,
        Provider.GOOGLE: settings.google_base_url,
        Provider.DEEPSEEK: settings.deepseek_base_url,
        Provider.KIMI: settings.kimi_base_url,
    }.get(provider)
    return override or PROVIDERS[provider].default_base_url
