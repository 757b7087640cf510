"""Messages on the wire: a stored message as ``MessageOut``, its media with a signed URL."""

from __future__ import annotations

from typing import Any

from cxinbox.files.service import file_url
from cxinbox.messages.schemas import MediaErrorOut, MediaOut, MessageOut
from cxinbox.models.inbox import Message
from cxinbox.runtime import Runtime


def media_out(runtime: Runtime, media: dict[str, Any] | None) -> MediaOut | None:
    if not media:
        return None
    key = media.get("storageKey")
    return MediaOut(
        mime_type=media.get("mimeType"),
        filename=media.get("filename"),
        url=file_url(runtime, key) if key else None,
        size=media.get("size"),
        sha256=media.get("sha256"),
        caption=media.get("caption"),
        download_state=media.get("state", "PENDING"),
        last_error=_media_error(media.get("lastError")),
        provider_media_id=media.get("providerMediaId"),
    )


def _media_error(error: Any) -> MediaErrorOut | None:
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    return MediaErrorOut(
        code=code if isinstance(code, int) else None, message=str(error.get("message") or "Download failed")
    )


def message_out(runtime: Runtime, message: Message) -> MessageOut:
    return MessageOut(
        id=message.id,
        conversation_id=message.conversation_id,
        direction=message.direction,
        sender_type=message.sender_type,
        sender_user_id=message.sender_user_id,
        type=message.type,
        text=message.text,
        media=media_out(runtime, message.media),
        payload=message.payload,
        status=message.status,
        wa_message_id=message.wa_message_id,
        timestamp=message.ordered_at,
        context=message.context,
        reply_to_wa_message_id=message.reply_to_wa_message_id,
        reaction=message.reaction,
        referral=message.referral,
        error=message.error,
        pricing_category=message.pricing_category,
        edited_at=message.edited_at,
        deleted_at=message.deleted_at,
        is_hidden=message.is_hidden,
        simulated=message.simulated,
        created_at=message.created_at,
    )
