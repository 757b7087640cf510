"""Inbound media: fetched from the Graph API after the message is stored, kept in private storage.

A failed download never loses the attachment: the message keeps Meta's media id and a download
state (``PENDING`` while retries remain, ``FAILED`` with ``lastError`` once a failure is final or the
attempts are spent), so it can be fetched again later (``retry-media``). Every failure is recorded
and logged, whatever raised it: no download stays ``PENDING`` after its job ends. Network calls run
outside any database transaction.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.whatsapp import GraphClient, GraphError
from cxinbox.core.jobs import job
from cxinbox.files.names import safe_filename
from cxinbox.messages.events import publish_message_updated
from cxinbox.models.inbox import Conversation, MediaState, Message
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.repository import locked_message

log = structlog.get_logger(__name__)

DOWNLOAD_ATTEMPTS = 5


@dataclass(frozen=True)
class _Download:
    organization_id: str
    message_id: str
    media_id: str
    filename: str | None
    access_token_encrypted: str | None


@job("whatsapp.download_media", attempts=DOWNLOAD_ATTEMPTS, backoff_seconds=0.5)
async def download_media(runtime: Runtime, session: AsyncSession, message_id: str) -> None:
    async with runtime.unit_of_work() as read_session:
        download = await _pending_download(read_session, message_id)
    if download is None:
        return
    try:
        media = await _fetch_and_store(runtime, download)
    except Exception as exc:
        failure = _Failure.of(exc)
        log.warning(
            "media_download_failed",
            message_id=message_id,
            error=failure.error,
            retryable=failure.retryable,
            exc_info=not isinstance(exc, GraphError),  # not Meta's answer: the trace says what broke
        )
        async with runtime.unit_of_work() as failure_session:
            again = await _record_failure(failure_session, runtime, message_id, failure)
        if again:
            raise  # the job runs again after its backoff
        return
    message = await locked_message(session, message_id)
    if message is not None and message.media:
        message.media = {**message.media, **media}
        await publish_message_updated(session, runtime, message)


async def _pending_download(session: AsyncSession, message_id: str) -> _Download | None:
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
    if media.get("state") == MediaState.DOWNLOADED.value or not media.get("providerMediaId"):
        return None
    return _Download(
        organization_id=message.organization_id,
        message_id=message.id,
        media_id=str(media["providerMediaId"]),
        filename=media.get("filename"),
        access_token_encrypted=token,
    )


async def _fetch_and_store(runtime: Runtime, download: _Download) -> dict[str, Any]:
    if not download.access_token_encrypted:
        raise GraphError("The WhatsApp number has no access token", retryable=False)
    token = runtime.secrets.decrypt(download.access_token_encrypted)  # may fail: a recorded failure too
    async with GraphClient(runtime.settings.meta, token) as graph:
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
    name = safe_filename(download.filename)
    if name:
        return name
    extension = mimetypes.guess_extension(mime_type.split(";")[0].strip()) or ""
    return f"{download.media_id}{extension}"


@dataclass(frozen=True)
class _Failure:
    error: dict[str, Any]
    retryable: bool

    @classmethod
    def of(cls, exc: Exception) -> _Failure:
        """Meta's error as Meta gave it; anything else (storage, a bug) is final for this download,
        named by its type only (its text may hold paths)."""
        if isinstance(exc, GraphError):
            return cls(exc.as_dict(), exc.retryable)
        message = f"The media could not be stored ({type(exc).__name__})"
        return cls({"code": None, "subcode": None, "message": message}, retryable=False)


async def _record_failure(
    session: AsyncSession, runtime: Runtime, message_id: str, failure: _Failure
) -> bool:
    """Keep the failure on the message; answers whether the download is tried again."""
    message = await locked_message(session, message_id)
    if message is None or not message.media:
        return False
    media = dict(message.media)
    media["attempts"] = int(media.get("attempts") or 0) + 1
    media["lastError"] = failure.error
    again = failure.retryable and media["attempts"] < DOWNLOAD_ATTEMPTS
    if not again:
        media["state"] = MediaState.FAILED.value
    message.media = media
    await publish_message_updated(session, runtime, message)
    return again
