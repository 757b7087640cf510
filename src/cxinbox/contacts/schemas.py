from __future__ import annotations

from pydantic import Field

from cxinbox.core.wire import RequestModel


class UpdateContact(RequestModel):
    """Only the fields sent change; ``null`` clears the category and gives the contact its WhatsApp
    profile name back."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=64)
