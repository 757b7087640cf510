from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.fakes.llm import FakeLlm, Reply

#: provider -> the fake's flavour and a model it is called with
PROVIDERS = {
    "OPENAI": ("openai", "gpt-4o-mini"),
    "ANTHROPIC": ("anthropic", "claude-haiku-4-5"),
    "GOOGLE": ("google", "gemini-2.5-flash"),
    "DEEPSEEK": ("deepseek", "deepseek-chat"),
    "KIMI": ("kimi", "kimi-k2-0905-preview"),
    "LOCAL": ("local", "llama3.1"),
}


def new_key() -> str:
    return f"sk-test-{uuid.uuid4().hex}"


async def make_config(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    llm: FakeLlm,
    provider: str = "OPENAI",
    *replies: Reply,
    **fields: Any,
) -> tuple[dict[str, Any], str]:
    """The organization's active config for ``provider`` on the fake, with a fresh key whose next
    answers are ``replies``; the config and its key."""
    flavour, model = PROVIDERS[provider]
    key = new_key()
    llm.script(key, *replies)
    body = {"provider": provider, "model": model, "apiKey": key, "baseUrl": llm.base(flavour), **fields}
    r = await client.put("/bot-config", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"], key
