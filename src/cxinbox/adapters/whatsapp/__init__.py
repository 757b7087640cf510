"""A thin client for the WhatsApp Cloud API (Meta Graph API)."""

from cxinbox.adapters.whatsapp.client import GraphClient, MediaInfo, PhoneNumberInfo, is_media_id
from cxinbox.adapters.whatsapp.errors import GraphError

__all__ = ["GraphClient", "GraphError", "MediaInfo", "PhoneNumberInfo", "is_media_id"]
