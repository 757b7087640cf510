from __future__ import annotations

from typing import Annotated

from pydantic import Field, WithJsonSchema, field_validator

from cxinbox.auth.scopes import ALL_SCOPES
from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples, examples_of

SCOPES = (
    "`area:read` or `area:write` (write includes read): "
    + ", ".join(f"`{s}`" for s in ALL_SCOPES)
    + ". No key, whatever its scopes, manages API keys, users, invitations or credentials (403 FORBIDDEN)."
)

#: a scope's name, listed in the OpenAPI document (checked by ``CreateApiKey``)
ScopeName = Annotated[str, WithJsonSchema({"type": "string", "enum": list(ALL_SCOPES)})]


class CreateApiKey(RequestModel):
    model_config = examples({"name": "CRM sync", "scopes": ["conversations:read", "contacts:read"]})
    name: str = Field(min_length=1, max_length=200)
    expires_at: UtcDatetime | None = None
    scopes: list[ScopeName] | None = Field(
        default=None,
        min_length=1,
        max_length=len(ALL_SCOPES),
        description="Addition to the reference's body: what the key may do, "
        + SCOPES
        + " Omitted or null: every area, as every key made before scopes existed.",
    )

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, scopes: list[str] | None) -> list[str] | None:
        if scopes is None:
            return None
        unknown = [s for s in scopes if s not in ALL_SCOPES]
        if unknown:
            raise ValueError(f"unknown scopes {', '.join(unknown)}; choose from {', '.join(ALL_SCOPES)}")
        return sorted(set(scopes), key=ALL_SCOPES.index)


class UpdateApiKey(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    is_active: bool | None = None
    expires_at: UtcDatetime | None = None


class ApiKeyOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24ddb-6b58-7371-946d-415785e59697",
            "name": "CRM sync",
            "prefix": "cxk_deafe9c2",
            "isActive": True,
            "expiresAt": None,
            "lastUsedAt": "2026-12-07T10:02:11.093412Z",
            "usageCount": 42,
            "createdById": "01a24dda-3f64-7b6e-a01c-8d0461196f48",
            "createdAt": "2026-12-07T09:15:55.224283Z",
            "scopes": ["conversations:read", "contacts:read"],
        }
    )
    id: str
    name: str
    prefix: str
    is_active: bool
    expires_at: UtcDatetime | None
    last_used_at: UtcDatetime | None
    usage_count: int
    created_by_id: str | None
    created_at: UtcDatetime
    scopes: list[str] | None = Field(
        description="What the key may do, " + SCOPES + " null: made without scopes, every area."
    )


class ApiKeyCreated(ApiKeyOut):
    model_config = examples(
        examples_of(ApiKeyOut)[0]
        | {
            "lastUsedAt": None,
            "usageCount": 0,
            "key": "cxk_deafe9c2_IB5kXgEMgncA6XiaCT0Yf0MXtagB2QFQbf_MGSZpOqs",
        }
    )
    key: str = Field(description="The full key. It is shown only in this response.")
