from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from cxinbox.core.wire import ApiModel, NonBlank, RequestModel, UtcDatetime, examples
from cxinbox.tags.palette import palette_color


class TagOut(ApiModel):
    model_config = examples(
        {
            "id": "01a24ddb-713a-7ef6-86d7-23d7fb3a0fb9",
            "name": "Refund",
            "color": "#EF4444",
            "createdAt": "2026-12-07T09:15:56.730963Z",
        }
    )
    id: str
    name: str
    color: str = Field(description="A hex value of the palette (`GET /tags/colors`)")
    created_at: UtcDatetime


class TagColor(ApiModel):
    name: str
    value: str = Field(description="Hex value, e.g. `#3B82F6`")


def _palette(value: str) -> str:
    color = palette_color(value)
    if color is None:
        raise ValueError("must be a color of GET /tags/colors (its name or hex value)")
    return color


TagName = Annotated[
    str,
    Field(min_length=1, max_length=50, description="Unique within the organization (ignoring case)"),
    NonBlank,
]
PaletteColor = Annotated[
    str, Field(max_length=16, description="A color of `GET /tags/colors`"), AfterValidator(_palette)
]


class CreateTag(RequestModel):
    model_config = examples({"name": "Refund", "color": "#EF4444"})
    name: TagName
    color: PaletteColor | None = Field(default=None, description="Gray when left out")


class UpdateTag(RequestModel):
    name: TagName | None = None
    color: PaletteColor | None = None


class TagConversation(RequestModel):
    tag_id: str = Field(min_length=1, max_length=36)
