"""The writing assist: a suggestion to finish what an agent is typing, from the organization's model
(the active bot config's, or its own). The organization turns it on, each user may turn it off for
themself (on by default), and each user's requests are rate limited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.llm.base import ChatMessage, Chunk, CompletionRequest, LlmError, Usage
from cxinbox.adapters.llm.registry import PROVIDERS, Provider
from cxinbox.audit.request import Actor
from cxinbox.auth.principal import Principal
from cxinbox.bot import configs, llm, usage
from cxinbox.bot.errors import BotNotConfigured, llm_failure
from cxinbox.bot.llm import target_of
from cxinbox.bot.repository import BotConfigRepository
from cxinbox.bot.schemas import MASK, HttpUrl, ModelName, Secret
from cxinbox.bot.transcript import DATA_NOTICE, transcript
from cxinbox.conversations.repository import visible_conversation
from cxinbox.core.crypto import mask_secret
from cxinbox.core.errors import Conflict, Forbidden, ValidationFailed
from cxinbox.core.ratelimit import Limit
from cxinbox.core.wire import ApiModel, NonBlank, RequestModel, examples
from cxinbox.models.bot import WritingAssistPreference, WritingAssistSettings
from cxinbox.runtime import Runtime

MAX_SUGGESTION_TOKENS = 200
SUGGESTIONS = Limit("writing-assist", "30/minute")


class WritingAssistDisabled(Conflict):
    code = "WRITING_ASSIST_DISABLED"
    message = "The writing assist is turned off (for the organization or for you)"


class OrgWritingAssist(ApiModel):
    enabled: bool
    use_bot_config: bool = Field(description="Use the active bot config's provider and model")
    provider: Provider | None
    model: str | None
    api_key: str | None = Field(description="Masked")
    base_url: str | None
    max_tokens: int
    instructions: str | None


class UserWritingAssist(ApiModel):
    enabled: bool


class EffectiveWritingAssist(ApiModel):
    enabled: bool = Field(description="On for the organization and for the caller, with a model to ask")
    provider: Provider | None
    model: str | None


class WritingAssistOut(ApiModel):
    org: OrgWritingAssist
    user: UserWritingAssist
    effective: EffectiveWritingAssist


class UpdateWritingAssist(RequestModel):
    enabled: bool | None = None
    use_bot_config: bool | None = None
    provider: Provider | None = None
    model: ModelName | None = None
    api_key: Secret = None
    base_url: HttpUrl = None
    max_tokens: Annotated[int, Field(ge=1, le=MAX_SUGGESTION_TOKENS)] | None = None
    instructions: Annotated[str, Field(max_length=2000)] | None = None


class CompleteRequest(RequestModel):
    model_config = examples(
        {"conversationId": "01a24ddb-6b0d-719d-a033-02bcfc055c30", "partialText": "Hola, claro que"}
    )
    conversation_id: Annotated[str, Field(min_length=1, max_length=36)]
    partial_text: Annotated[str, Field(min_length=1, max_length=2000), NonBlank]


async def settings_of(session: AsyncSession, organization_id: str) -> WritingAssistSettings:
    row = await session.scalar(
        select(WritingAssistSettings).where(WritingAssistSettings.organization_id == organization_id)
    )
    return row or WritingAssistSettings(
        organization_id=organization_id, enabled=False, use_bot_config=True, max_tokens=60
    )


async def user_enabled(session: AsyncSession, user_id: str | None) -> bool:
    if user_id is None:
        return False
    row = await session.get(WritingAssistPreference, user_id)
    return True if row is None else row.enabled


async def view(session: AsyncSession, runtime: Runtime, principal: Principal) -> WritingAssistOut:
    org = await settings_of(session, principal.tenant.organization_id)
    user_on = await user_enabled(session, principal.user_id)
    target = await _target(session, runtime, principal, org)
    return WritingAssistOut(
        org=OrgWritingAssist(
            enabled=org.enabled,
            use_bot_config=org.use_bot_config,
            provider=Provider(org.provider) if org.provider else None,
            model=org.model,
            api_key=mask_secret(
                runtime.secrets.decrypt(org.api_key_encrypted) if org.api_key_encrypted else None
            ),
            base_url=org.base_url,
            max_tokens=org.max_tokens,
            instructions=org.instructions,
        ),
        user=UserWritingAssist(enabled=user_on),
        effective=EffectiveWritingAssist(
            enabled=org.enabled and user_on and target is not None,
            provider=target.provider if target else None,
            model=target.model if target else None,
        ),
    )


async def update(
    session: AsyncSession, runtime: Runtime, editor: Actor, body: UpdateWritingAssist
) -> WritingAssistOut:
    organization_id = editor.principal.tenant.organization_id
    org = await settings_of(session, organization_id)
    session.add(org)
    sent = body.model_fields_set
    for field in ("enabled", "use_bot_config", "max_tokens"):
        if field in sent:
            if getattr(body, field) is None:
                raise ValidationFailed.field(
                    type(body).model_fields[field].alias or field, "must not be null"
                )
            setattr(org, field, getattr(body, field))
    for field in ("model", "base_url", "instructions"):
        if field in sent:
            setattr(org, field, getattr(body, field))
    if "provider" in sent:
        org.provider = body.provider.value if body.provider else None
    if "api_key" in sent and not (body.api_key or "").startswith(MASK):
        org.api_key_encrypted = runtime.secrets.encrypt(body.api_key) if body.api_key else None
    configs.ensure_allowed_base_url(runtime, org.base_url)
    if not org.use_bot_config and (org.provider is None or not org.model):
        raise ValidationFailed.field("provider", "without the bot config, a provider and a model are needed")
    await session.flush()
    editor.record(
        session,
        "writing_assist.updated",
        target_type="organization",
        target_id=organization_id,
        details={"changed": sorted(type(body).model_fields[f].alias or f for f in sent)},
    )
    return await view(session, runtime, editor.principal)


async def set_user_enabled(session: AsyncSession, principal: Principal, enabled: bool) -> UserWritingAssist:
    if principal.user_id is None:
        raise Forbidden("Only a signed-in user has a writing assist preference")
    row = await session.get(WritingAssistPreference, principal.user_id)
    if row is None:
        session.add(WritingAssistPreference(user_id=principal.user_id, enabled=enabled))
    else:
        row.enabled = enabled
    await session.flush()
    return UserWritingAssist(enabled=enabled)


async def suggestion(
    session: AsyncSession, runtime: Runtime, principal: Principal, body: CompleteRequest
) -> AsyncIterator[Chunk]:
    """The rest of ``partialText`` as the provider streams it: its pieces of text, then its tokens.

    The provider has answered (or refused: the caller's 409/429/503) before this returns, so a stream
    that starts carries a suggestion; a failure later in it is the stream's to report.
    """
    conversation = await visible_conversation(session, principal, body.conversation_id)
    org = await settings_of(session, principal.tenant.organization_id)
    if not org.enabled or not await user_enabled(session, principal.user_id):
        raise WritingAssistDisabled()
    target = await _target(session, runtime, principal, org)
    if target is None:
        raise BotNotConfigured("The writing assist has no model: activate a bot config or set one")
    await runtime.limiter.hit(SUGGESTIONS, principal.user_id or principal.api_key_id or "")
    system = (
        "You help a customer service agent finish the reply they are typing. Answer only with the "
        "words that continue their text (no quotes, no repetition of what they wrote), in their "
        "language, short and polite. " + DATA_NOTICE
    )
    if org.instructions:
        system += f"\nThe organization's instructions: {org.instructions}"
    history = await transcript(session, conversation)
    prompt = f"{history}\n\nThe agent has typed:\n<draft>{body.partial_text}</draft>"
    request = CompletionRequest(
        model=target.model,
        system=system,
        messages=[ChatMessage("user", prompt)],
        temperature=0.3,
        max_tokens=min(org.max_tokens, MAX_SUGGESTION_TOKENS),
    )
    chunks = PROVIDERS[target.provider].adapter.stream(llm.endpoint_for(runtime, target), request)
    try:
        first = await anext(chunks)
    except LlmError as exc:
        raise llm_failure(exc) from exc
    return _counted(runtime, principal.tenant.organization_id, first, chunks)


async def _counted(
    runtime: Runtime, organization_id: str, first: Chunk, rest: AsyncIterator[Chunk]
) -> AsyncIterator[Chunk]:
    """``first`` then ``rest``; the tokens are counted in a transaction of their own (the request's
    ended when the stream began)."""
    yield first
    async for chunk in rest:
        if isinstance(chunk, Usage):
            async with runtime.unit_of_work() as session:
                await usage.record(session, organization_id, chunk)
        yield chunk


async def _target(
    session: AsyncSession, runtime: Runtime, principal: Principal, org: WritingAssistSettings
) -> llm.Target | None:
    if org.use_bot_config:
        config = await BotConfigRepository(session, principal.tenant).active()
        return None if config is None else target_of(runtime, config)
    if org.provider is None or not org.model:
        return None
    key = runtime.secrets.decrypt(org.api_key_encrypted) if org.api_key_encrypted else None
    return llm.Target(Provider(org.provider), org.model, key, org.base_url)
