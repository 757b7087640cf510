"""The template picker a conversation offers once its 24-hour window has closed: the APPROVED
templates of the conversation's WhatsApp number (as ``GET /templates`` lists them to any member),
each with a field for every value it takes, sent through ``POST /templates/{name}/send``'s service.

Free text is refused while the window is closed (Meta's rule); a template is what may go out. The
values are checked by the send path, which names the one that does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from cxinbox.auth.principal import Principal
from cxinbox.models.templates import TemplateStatus
from cxinbox.templates import components as parts
from cxinbox.templates import service
from cxinbox.templates.schemas import SendTemplate, TemplateFilter

#: the most values one template takes (body and buttons); the form's fields are numbered up to it
MOST_VALUES = 100


@dataclass(frozen=True)
class Pickable:
    """An APPROVED template as the picker offers it: its text and the values it asks for."""

    name: str
    language: str
    category: str
    preview: str
    header: bool  # a text header with a variable
    media_header: str | None  # IMAGE, VIDEO or DOCUMENT: an https link, else the stored sample
    body: int
    buttons: int

    @property
    def key(self) -> str:
        return f"{self.name}-{self.language}"


async def pickable(session: AsyncSession, principal: Principal, account_id: str) -> list[Pickable]:
    criteria = TemplateFilter(status=TemplateStatus.APPROVED, whatsapp_account_id=account_id)
    found = await service.list_templates(session, principal, criteria)
    offered = []
    for template in found:
        slots = parts.slots_of(template.components)
        offered.append(
            Pickable(
                name=template.name,
                language=template.language,
                category=template.category.value,
                preview=parts.rendered_text(template.components, None, []),
                header=slots.header > 0 and slots.media_header is None,
                media_header=slots.media_header,
                body=slots.body,
                buttons=len(slots.buttons),
            )
        )
    return sorted(offered, key=lambda p: (p.name, p.language))


def _values(form: FormData, prefix: str) -> list[str]:
    values = []
    for number in range(1, MOST_VALUES + 1):
        value = form.get(f"{prefix}_{number}")
        if not isinstance(value, str):
            break
        values.append(value.strip()[:4096])
    return values


def chosen(form: FormData, conversation_id: str) -> tuple[str, SendTemplate]:
    """The template's name and the send's body from the picker's form (``body_1``…, ``button_1``…,
    ``header``); a malformed form fails validation as the API's body would (400)."""
    name = form.get("name")
    language = form.get("language")
    header = form.get("header")
    variables: dict[str, object] = {"body": _values(form, "body"), "buttons": _values(form, "button")}
    if isinstance(header, str) and header.strip():
        variables["header"] = header.strip()[:4096]
    body = SendTemplate.model_validate(
        {
            "conversationId": conversation_id,
            "language": language if isinstance(language, str) and language else None,
            "variables": variables,
        }
    )
    return (name if isinstance(name, str) else "")[:512], body
