from __future__ import annotations

from pydantic import Field

from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime


class CreateApiKey(RequestModel):
    name: str = Field(min_length=1, max_length=200)
    expires_at: UtcDatetime | None = None


class UpdateApiKey(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    is_active: bool | None = None
    expires_at: UtcDatetime | None = None


class ApiKeyOut(ApiModel):
    id: str
    name: str
    prefix: str
    is_active: bool
    expires_at: UtcDatetime | None
    last_used_at: UtcDatetime | None
    usage_count: int
    created_by_id: str | None
    created_at: UtcDatetime


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The full key. It is shown only in this response.")
