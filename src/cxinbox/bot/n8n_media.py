"""The file of an N8N media answer (``{type: image|video|document|audio, url|mediaId, caption}``),
made into an outgoing WhatsApp message.

- ``url``: fetched through the outbound guard (private addresses and redirects to them refused,
  at most ``FETCH_TIMEOUT_SECONDS``, and at most WhatsApp's limit for the type or
  ``MAX_FETCH_BYTES``, whichever is smaller), then recognised by its bytes: it must be what
  ``type`` says and a file WhatsApp takes (415 otherwise, 413 over the cap). A refused URL or an
  answer that is not 2xx is a 400 on ``message.url``; a host that does not answer, a 503 to retry.
- ``mediaId``: a file the organization already stores: the id of one of its messages whose media is
  stored (a file sent or received before). Another organization's id is not found (404).

The file is stored like an agent's upload and sent through the outbound pipeline.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.core.errors import (
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
    ValidationFailed,
)
from cxinbox.core.outbound import DestinationRefused, OutboundClient, OutboundUnavailable, ResponseTooLarge
from cxinbox.files.media_types import sniff_media
from cxinbox.files.names import safe_filename
from cxinbox.models.inbox import Conversation, MediaState, Message, MessageType
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound import compose
from cxinbox.whatsapp.outbound.compose import CAPTIONED, Outgoing
from cxinbox.whatsapp.outbound.media import KINDS, classify

MEDIA_TYPES = frozenset({"image", "video", "document", "audio"})
FETCH_TIMEOUT_SECONDS = 20.0
MAX_FETCH_BYTES = 16 * 1024 * 1024
RETRY_AFTER_SECONDS = 30
#: documents WhatsApp takes whose bytes have no signature to check
_PLAIN_DOCUMENTS = frozenset({"text/plain", "text/csv"})


@dataclass(frozen=True)
class _File:
    storage_key: str
    mime_type: str
    filename: str
    size: int
    sha256: str


async def outgoing(
    session: AsyncSession,
    runtime: Runtime,
    conversation: Conversation,
    kind: str,
    url: str | None,
    media_id: str | None,
    caption: str | None,
) -> Outgoing:
    """The message to send; raises the answers of the module docstring."""
    expected = MessageType(kind)
    if caption and expected not in CAPTIONED:
        raise ValidationFailed.field("message.caption", f"{kind} messages take no caption")
    if (url is None) == (media_id is None):
        raise ValidationFailed.field("message", f"a {kind} answer needs one of url and mediaId")
    if media_id is not None:
        file = await _stored(session, conversation.organization_id, media_id, expected)
    else:
        file = await _fetched(runtime, conversation.organization_id, url or "", expected)
    return compose.media_message(
        expected,
        storage_key=file.storage_key,
        mime_type=file.mime_type,
        filename=file.filename,
        size=file.size,
        sha256=file.sha256,
        caption=caption,
    )


async def _stored(session: AsyncSession, organization_id: str, media_id: str, expected: MessageType) -> _File:
    message = await session.scalar(
        select(Message).where(Message.id == media_id, Message.organization_id == organization_id)
    )
    media = (message.media if message is not None else None) or {}
    if not media.get("storageKey") or media.get("state") != MediaState.DOWNLOADED.value:
        raise NotFound("No stored file of the organization has that mediaId")
    mime_type = str(media.get("mimeType") or "")
    if _kind_of(mime_type) is not expected:
        raise UnsupportedMediaType(
            f"The stored file is {mime_type or 'of no known type'}, not {expected.value}"
        )
    return _File(
        storage_key=str(media["storageKey"]),
        mime_type=mime_type,
        filename=safe_filename(media.get("filename")) or f"file.{mime_type.split('/')[-1]}",
        size=int(media.get("size") or 0),
        sha256=str(media.get("sha256") or ""),
    )


async def _fetched(runtime: Runtime, organization_id: str, url: str, expected: MessageType) -> _File:
    cap = min(MAX_FETCH_BYTES, *(k.max_bytes for k in KINDS.values() if k.type is expected))
    try:
        async with OutboundClient(
            allow_private=runtime.settings.allow_private_urls, timeout=FETCH_TIMEOUT_SECONDS, max_bytes=cap
        ) as http:
            response = await http.request("GET", url)
    except DestinationRefused as exc:
        raise ValidationFailed.field("message.url", "is not a public http(s) address") from exc
    except ResponseTooLarge as exc:
        raise PayloadTooLarge(f"The file is larger than {cap} bytes") from exc
    except OutboundUnavailable as exc:
        raise ServiceUnavailable(
            "The file's host did not answer",
            code="MEDIA_UNAVAILABLE",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from exc
    if not response.is_success:
        raise ValidationFailed.field("message.url", f"answered HTTP {response.status_code}")
    data = response.content
    filename = safe_filename(unquote(urlsplit(str(response.url)).path.rsplit("/", 1)[-1])) or "file"
    upload = classify(data, response.headers.get("content-type"), filename)
    if upload.kind.type is not expected or not _bytes_agree(data, upload.mime_type, expected):
        raise UnsupportedMediaType(f"The file at the URL is not a {expected.value} WhatsApp takes")
    key = f"outbound-media/{organization_id}/{uuid.uuid4().hex}/{filename}"
    await runtime.storage.save(key, data, upload.mime_type)
    return _File(key, upload.mime_type, filename, len(data), hashlib.sha256(data).hexdigest())


def _kind_of(mime_type: str) -> MessageType | None:
    kind = KINDS.get(mime_type.split(";")[0].strip().lower())
    return kind.type if kind is not None else None


def _bytes_agree(data: bytes, mime_type: str, expected: MessageType) -> bool:
    """Videos, audio and documents must be what their bytes say (images were recognised by theirs)."""
    if expected is MessageType.IMAGE or mime_type in _PLAIN_DOCUMENTS:
        return True
    sniffed = sniff_media(data)
    return sniffed is not None and sniffed.kind == expected.value
