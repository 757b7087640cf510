"""The studio's errors."""

from __future__ import annotations

from cxinbox.core.errors import BadRequest, Conflict


class InvalidBundle(BadRequest):
    code = "INVALID_BUNDLE"
    message = "The bundle is not valid"


class TemplateSlugTaken(Conflict):
    code = "SLUG_TAKEN"
    message = "A bot template already has this slug"
