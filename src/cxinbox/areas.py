"""Every area that plugs something into the core: jobs and periodic tasks, who sees its events on
the stream, what runs when a user leaves, how a plan limit is counted.

The API (``create_app``) and every runtime (what ``cxinbox worker`` builds) call ``register_areas``,
so all processes know the same set: a worker that imports less than the API still releases a leaving
user's conversations, and the stream still filters every event family. A new area adds its
``registration`` module here.
"""

from __future__ import annotations

from types import ModuleType

from cxinbox.analytics import registration as analytics
from cxinbox.billing import registration as billing
from cxinbox.bot import registration as bot
from cxinbox.campaigns import registration as campaigns
from cxinbox.contacts import registration as contacts
from cxinbox.conversations import registration as conversations
from cxinbox.knowledge import registration as knowledge
from cxinbox.mail import registration as mail
from cxinbox.messages import registration as messages
from cxinbox.quick_replies import registration as quick_replies
from cxinbox.realtime import registration as realtime
from cxinbox.routing import registration as routing
from cxinbox.studio import registration as studio
from cxinbox.tags import registration as tags
from cxinbox.teams import registration as teams
from cxinbox.templates import registration as templates
from cxinbox.tools import registration as tools
from cxinbox.users import registration as users
from cxinbox.whatsapp import registration as whatsapp

AREAS: tuple[ModuleType, ...] = (
    mail,
    realtime,
    users,
    teams,
    contacts,
    tags,
    quick_replies,
    conversations,
    messages,
    whatsapp,
    bot,
    tools,
    routing,
    knowledge,
    studio,
    templates,
    campaigns,
    billing,
    analytics,
)


def register_areas() -> None:
    """Register every area (each ``register()`` is idempotent: a process may build several runtimes)."""
    for area in AREAS:
        area.register()
