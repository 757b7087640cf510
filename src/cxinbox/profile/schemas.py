from __future__ import annotations

from pydantic import Field

from cxinbox.auth.passwords import MIN_PASSWORD_LENGTH
from cxinbox.core.wire import RequestModel


class UpdateProfile(RequestModel):
    name: str = Field(min_length=1, max_length=200)


class ChangePassword(RequestModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)
