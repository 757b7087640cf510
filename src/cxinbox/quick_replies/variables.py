"""Variables in a quick reply's content, filled when an agent uses it in a conversation.

``{{contact.name}}`` is replaced by the value; ``{{contact.name|there}}`` falls back to ``there``
when the value is unknown (without a fallback an unknown value becomes empty). A variable that is
not in ``VARIABLES`` is left as written, so a typo shows instead of vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.auth.principal import Principal
from cxinbox.conversations.repository import visible_conversation
from cxinbox.models.identity import Organization, User

VARIABLES = {
    "contact.name": "The customer's WhatsApp profile name",
    "contact.firstName": "The first word of the customer's name",
    "contact.phone": "The customer's number (+ and digits)",
    "agent.name": "The agent using the quick reply",
    "agent.firstName": "The first word of the agent's name",
    "agent.email": "The agent's email",
    "organization.name": "The organization's name",
}
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z]+\.[A-Za-z]+)\s*(?:\|([^{}]*))?\}\}")

Values = Mapping[str, str | None]


def variables_in(content: str) -> list[str]:
    """The known variables ``content`` uses, in order of first use."""
    return list(dict.fromkeys(m.group(1) for m in _VARIABLE.finditer(content) if m.group(1) in VARIABLES))


def render(content: str, values: Values) -> str:
    def fill(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        if name not in VARIABLES:
            return match.group(0)
        return values.get(name) or (fallback.strip() if fallback is not None else "")

    return _VARIABLE.sub(fill, content)


async def values_for(session: AsyncSession, principal: Principal, conversation_id: str) -> Values:
    """What the variables stand for in ``conversation_id`` (which the caller must see) for the
    caller (an API key has no agent: those variables use their fallback)."""
    conversation = await visible_conversation(session, principal, conversation_id)
    contact = conversation.contact
    agent = await session.get(User, principal.user_id) if principal.user_id else None
    organization = await session.get(Organization, principal.tenant.organization_id)
    return {
        "contact.name": contact.name,
        "contact.firstName": _first_word(contact.name),
        "contact.phone": contact.phone,
        "agent.name": agent.name if agent else None,
        "agent.firstName": _first_word(agent.name) if agent else None,
        "agent.email": agent.email if agent else None,
        "organization.name": organization.name if organization else None,
    }


def _first_word(name: str | None) -> str | None:
    return name.split()[0] if name and name.split() else None
