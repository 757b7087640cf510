from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from cxinbox.core.bulk import BulkSelection
from cxinbox.core.wire import ApiModel, NonBlank, RequestModel, UtcDatetime, examples
from cxinbox.quick_replies.variables import VARIABLES

_SHORTCUT = re.compile(r"^/?[a-z0-9][a-z0-9_-]{0,48}$")
CONTENT_MAX = 4096


def _shortcut(value: str) -> str:
    value = value.strip().lower()
    if not _SHORTCUT.match(value):
        raise ValueError("must be like /greeting: letters, digits, - and _ (at most 49)")
    return value if value.startswith("/") else f"/{value}"


Shortcut = Annotated[
    str,
    Field(min_length=1, max_length=50, description="Like `/greeting` (the `/` is added when left out)"),
    AfterValidator(_shortcut),
]
Title = Annotated[str, Field(min_length=1, max_length=100), NonBlank]
Content = Annotated[
    str,
    Field(
        min_length=1,
        max_length=CONTENT_MAX,
        description="Text with variables such as `{{contact.name}}` or `{{contact.name|there}}` "
        f"(a fallback after `|`): {', '.join(VARIABLES)}",
    ),
    NonBlank,
]
Category = Annotated[str, Field(min_length=1, max_length=64), NonBlank]


class QuickReplyMedia(ApiModel):
    kind: str = Field(description="image, video, audio or document")
    mime_type: str
    filename: str | None
    size: int
    url: str = Field(description="Short-lived signed URL of the file")


class QuickReplyOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24ddb-6b0d-719d-a033-02bcfc055c30",
            "title": "Greeting",
            "shortcut": "/hello",
            "content": "Hi {{contact.name}}, thanks for writing to {{organization.name}}!",
            "category": "General",
            "isActive": True,
            "media": None,
            "variables": ["contact.name", "organization.name"],
            "renderedContent": None,
            "createdById": "01a24dda-3f64-7b6e-a01c-8d0461196f48",
            "createdAt": "2026-12-07T09:15:55.150014Z",
            "updatedAt": "2026-12-07T09:15:55.150022Z",
        }
    )
    id: str
    title: str
    shortcut: str
    content: str
    category: str | None
    is_active: bool
    media: QuickReplyMedia | None
    variables: list[str] = Field(description="The variables the content uses")
    rendered_content: str | None = Field(
        default=None, description="The content with its variables filled, when `conversationId` was given"
    )
    created_by_id: str | None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class CreateQuickReply(RequestModel):
    model_config = examples(
        {
            "title": "Greeting",
            "shortcut": "/hello",
            "content": "Hi {{contact.name}}, thanks for writing to {{organization.name}}!",
            "category": "General",
        }
    )
    title: Title
    shortcut: Shortcut
    content: Content
    category: Category | None = None
    is_active: bool = True


class UpdateQuickReply(RequestModel):
    """Only the fields sent change; ``category: null`` clears it."""

    title: Title | None = None
    shortcut: Shortcut | None = None
    content: Content | None = None
    category: Category | None = None
    is_active: bool | None = None


class QuickReplyFilter(RequestModel):
    """A bulk selection's ``filter``."""

    is_active: bool | None = None
    category: str | None = None
    search: str | None = Field(default=None, max_length=200, description="Part of the title or shortcut")


class BulkQuickReplies(RequestModel):
    action: Literal["delete", "activate", "deactivate"]
    selection: BulkSelection
