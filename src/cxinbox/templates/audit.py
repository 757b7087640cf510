"""What an admin does to templates, written to the audit log with the template's name, language and
the status it ended in."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.audit.request import Actor
from cxinbox.models.templates import MessageTemplate


def audited(
    session: AsyncSession, editor: Actor, action: str, template: MessageTemplate, **details: Any
) -> None:
    editor.record(
        session,
        action,
        target_type="template",
        target_id=template.id,
        details={
            "name": template.name,
            "language": template.language,
            "status": template.status.value,
            **details,
        },
    )
