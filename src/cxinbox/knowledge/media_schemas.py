from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from cxinbox.core.wire import ApiModel, NonBlank, RequestModel, examples
from cxinbox.models.knowledge_media import BotMediaKind

MAX_TAGS = 20
Tag = Annotated[str, Field(min_length=1, max_length=50), NonBlank]
Name = Annotated[str, Field(min_length=1, max_length=100), NonBlank]
Description = Annotated[str, Field(max_length=2000)]


class BotMediaOut(ApiModel):
    model_config = examples(
        {
            "id": "0193a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1c",
            "name": "Catálogo de temporada",
            "description": "Send when the customer asks for the catalogue or the prices",
            "tags": ["catalogo", "precios"],
            "type": "DOCUMENT",
            "mimeType": "application/pdf",
            "filename": "catalogo.pdf",
            "size": 482133,
            "hasThumbnail": False,
            "url": "https://inbox.example.com/api/v1/files/bot-media/…?expires=1765090800&signature=…",
            "thumbnailUrl": None,
            "createdAt": "2026-12-07T10:00:00Z",
            "updatedAt": "2026-12-07T10:00:00Z",
        }
    )

    id: str
    name: str
    description: str = Field(description="Tells the bot when to send it")
    tags: list[str]
    type: BotMediaKind = Field(description="What the content was recognised as")
    mime_type: str
    filename: str
    size: int
    has_thumbnail: bool = Field(
        description="Addition: `/thumbnail` has a preview (images; videos with ffmpeg)"
    )
    url: str = Field(description="Addition: the file by a short-lived signed URL (no token needed)")
    thumbnail_url: str | None = Field(description="Addition: the preview by a short-lived signed URL")
    created_at: datetime
    updated_at: datetime


class BotMediaPatch(RequestModel):
    model_config = examples(
        {"description": "Send when the customer asks where the shop is", "tags": ["mapa"]}
    )

    name: Name | None = None
    description: Description | None = Field(default=None, description="Tells the bot when to send it")
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] | None = None
