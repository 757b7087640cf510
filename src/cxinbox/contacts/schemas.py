"""Wire models of the contacts area (``ContactOut`` is also part of every conversation and its events)."""

from __future__ import annotations

from pydantic import Field

from cxinbox.core.wire import ApiModel, RequestModel, UtcDatetime, examples


class ContactOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24de1-0b7a-7f3e-9a55-2c8e1d4b6f10",
            "waId": "5511987654321",
            "phone": "+5511987654321",
            "name": "Maria Souza",
            "profileName": "Maria Souza",
            "userId": None,
            "username": None,
            "category": None,
            "createdAt": "2026-12-07T09:30:12.418207Z",
        }
    )
    id: str
    wa_id: str
    phone: str | None
    name: str | None = Field(description="The name a person gave the contact, else its WhatsApp profile name")
    profile_name: str | None = Field(description="The WhatsApp profile name, as the latest webhook gave it")
    user_id: str | None
    username: str | None
    category: str | None
    created_at: UtcDatetime


class UpdateContact(RequestModel):
    """Only the fields sent change; ``null`` clears the category and gives the contact its WhatsApp
    profile name back."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=64)
