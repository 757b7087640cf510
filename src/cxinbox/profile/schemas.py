from __future__ import annotations

from pydantic import Field

from cxinbox.auth.passwords import MIN_PASSWORD_LENGTH
from cxinbox.core.wire import RequestModel
from cxinbox.models.identity import Language


class UpdateProfile(RequestModel):
    name: str = Field(min_length=1, max_length=200)


class ChangePassword(RequestModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)


class ChooseLanguage(RequestModel):
    language: Language | None = Field(
        description="Addition: `en` or `es` for the web console; null goes back to the browser's language"
    )
