"""A thin client for the WhatsApp Cloud API (Meta Graph API)."""

from cxinbox.adapters.whatsapp.client import GraphClient, MediaInfo, PhoneNumberInfo
from cxinbox.adapters.whatsapp.errors import GraphError

__all__ = ["GraphClient", "GraphError", "MediaInfo", "PhoneNumberInfo"]
