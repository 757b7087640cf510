from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from cxinbox.core.wire import ApiModel, NonBlank, RequestModel, UtcDatetime
from cxinbox.tags.palette import palette_color


class TagOut(ApiModel):
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
    name: TagName
    color: PaletteColor | None = Field(default=None, description="Gray when left out")


class UpdateTag(RequestModel):
    name: TagName | None = None
    color: PaletteColor | None = None


class TagConversation(RequestModel):
    tag_id: str = Field(min_length=1, max_length=36)
