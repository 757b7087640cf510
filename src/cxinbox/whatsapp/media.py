"""Inbound media: fetched from the Graph API after the message is stored, kept in private storage.

A failed download never loses the attachment: the message keeps Meta's media id and a download
state (``PENDING`` while retries remain, ``FAILED`` once Meta says the media is gone), so it can be
fetched again later. Network calls run outside any database transaction.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.whatsapp import GraphClient, GraphError
from cxinbox.core.jobs import job
from cxinbox.models.inbox import Conversation, MediaState, Message
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.inbound.threads import publish_message_updated
from cxinbox.whatsapp.repository import locked_message

DOWNLOAD_ATTEMPTS = 5


@dataclass(frozen=True)
class _Download:
    organization_id: str
    message_id: str
    media_id: str
    filename: str | None
    access_token: str


@job("whatsapp.download_media", attempts=DOWNLOAD_ATTEMPTS, backoff_seconds=0.5)
async def download_media(runtime: Runtime, session: AsyncSession, message_id: str) -> None:
    async with runtime.unit_of_work() as read_session:
        download = await _pending_download(read_session, runtime, message_id)
    if download is None:
        return
    try:
        media = await _fetch_and_store(runtime, download)
    except GraphError as exc:
        async with runtime.unit_of_work() as failure_session:
            await _record_failure(failure_session, runtime, message_id, exc)
        if exc.retryable:
            raise
        return
    message = await locked_message(session, message_id)
    if message is not None and message.media:
        message.media = {**message.media, **media}
        await publish_message_updated(session, runtime, message)


async def _pending_download(session: AsyncSession, runtime: Runtime, message_id: str) -> _Download | None:
    row = (
        await session.execute(
            select(Message, WhatsAppAccount.access_token_encrypted)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .join(WhatsAppAccount, WhatsAppAccount.id == Conversation.whatsapp_account_id)
            .where(Message.id == message_id)
        )
    ).first()
    if row is None:
        return None
    message, token = row
    media = message.media or {}
    if media.get("state") == MediaState.DOWNLOADED.value or not media.get("providerMediaId") or not token:
        return None
    return _Download(
        organization_id=message.organization_id,
        message_id=message.id,
        media_id=str(media["providerMediaId"]),
        filename=media.get("filename"),
        access_token=runtime.secrets.decrypt(token),
    )


async def _fetch_and_store(runtime: Runtime, download: _Download) -> dict[str, Any]:
    async with GraphClient(runtime.settings.meta, download.access_token) as graph:
        info = await graph.media_info(download.media_id)
        data = await graph.download(info.url)
    mime_type = info.mime_type
    key = f"whatsapp-media/{download.organization_id}/{download.message_id}/{_filename(download, mime_type)}"
    await runtime.storage.save(key, data, mime_type)
    return {
        "state": MediaState.DOWNLOADED.value,
        "storageKey": key,
        "mimeType": mime_type,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "lastError": None,
    }


def _filename(download: _Download, mime_type: str) -> str:
    if download.filename:
        name = download.filename.replace("/", "_").replace("\\", "_").strip(". ")
        if name:
            return name
    extension = mimetypes.guess_extension(mime_type.split(";")[0].strip()) or ""
    return f"{download.media_id}{extension}"


async def _record_failure(
    session: AsyncSession, runtime: Runtime, message_id: str, error: GraphError
) -> None:
    message = await locked_message(session, message_id)
    if message is None or not message.media:
        return
    media = dict(message.media)
    media["attempts"] = int(media.get("attempts") or 0) + 1
    media["lastError"] = error.as_dict()
    if not error.retryable:
        media["state"] = MediaState.FAILED.value
    message.media = media
    if not error.retryable:
        await publish_message_updated(session, runtime, message)
