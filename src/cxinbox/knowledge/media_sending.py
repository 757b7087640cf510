"""Sending the bot's media in a conversation (a MEDIA intent's ``mediaIds``), as BOT messages through
the outbound pipeline (the outbox, pacing, retries, status events).

A file is uploaded to the Graph API once per WhatsApp number: the media id Graph answers is kept
(``BotMediaUpload``) and reused for ``REUSE_FOR`` (Graph keeps uploaded media 30 days; the margin
covers a message that waits in the outbox). The upload runs here, before the message is queued, so
the message goes out with the id; if Graph cannot take it now, the message is queued without one
and delivery uploads the file itself with its retries (that id is not kept). A development
simulator's conversation never reaches Graph, so nothing is uploaded for it.

A caller that must queue the messages inside a transaction it keeps (the bot's turn, whose reply is
queued in the transaction that marks the turn done) uploads first with ``upload_bot_media`` and then
sends with ``upload=False``: nothing is committed early and nothing waits on Meta in the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.adapters.whatsapp import GraphClient, GraphError
from cxinbox.core.clock import utcnow
from cxinbox.core.db import dialect_insert, release_transaction
from cxinbox.core.ids import new_id
from cxinbox.core.tenancy import TenantContext
from cxinbox.knowledge.repository import BotMediaRepository
from cxinbox.models.inbox import Conversation, ConversationOrigin, Message, MessageType, SenderType
from cxinbox.models.knowledge_media import BotMedia, BotMediaUpload
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.whatsapp.outbound import compose
from cxinbox.whatsapp.outbound.refusal import send_refusal

log = structlog.get_logger(__name__)

#: how long an uploaded file's Graph media id is reused (Graph keeps it 30 days)
REUSE_FOR = timedelta(days=29)


async def send_bot_media(
    session: AsyncSession,
    runtime: Runtime,
    conversation: Conversation,
    media_ids: Sequence[str],
    *,
    upload: bool = True,
) -> dict[str, Message]:
    """Queue one BOT message per media of ``media_ids`` (in that order) that belongs to the
    conversation's organization, the messages by media id; an id that does not (deleted since, or
    another organization's) is skipped. Raises ``WindowClosed`` (409) outside the 24-hour window,
    and the account's refusal when it cannot send, before anything is uploaded. When a file must be
    uploaded, the session's work so far is committed first (``release_transaction``): no transaction
    waits on Meta. With ``upload=False`` only kept Graph ids are used and nothing is committed."""
    account = await session.get_one(WhatsAppAccount, conversation.whatsapp_account_id)
    if (refusal := send_refusal(account.status)) is not None:
        raise refusal
    if not compose.window_open(conversation):
        raise compose.WindowClosed()
    items = await _own_media(session, conversation, media_ids)
    graph_ids: dict[str, str] = {}
    if conversation.origin is not ConversationOrigin.SIMULATED:
        graph_ids = await graph_media_ids(session, runtime, account, items, upload=upload)
    sent = {}
    for media in items:
        outgoing = compose.media_message(
            MessageType(media.kind.value.lower()),
            storage_key=media.storage_key,
            mime_type=media.mime_type,
            filename=media.filename,
            size=media.size,
            sha256=media.sha256,
            caption=None,
        )
        if media.id in graph_ids:
            outgoing = with_graph_id(outgoing, graph_ids[media.id])
        sender = compose.Sender(SenderType.BOT)
        sent[media.id] = await compose.queue_message(session, runtime, conversation, outgoing, sender)
    return sent


async def upload_bot_media(
    session: AsyncSession, runtime: Runtime, conversation: Conversation, media_ids: Sequence[str]
) -> None:
    """Upload (and keep) the Graph ids a later ``send_bot_media(..., upload=False)`` will use; the
    session's work so far is committed first when a file is uploaded."""
    if conversation.origin is ConversationOrigin.SIMULATED or not media_ids:
        return
    account = await session.get_one(WhatsAppAccount, conversation.whatsapp_account_id)
    await graph_media_ids(session, runtime, account, await _own_media(session, conversation, media_ids))


async def _own_media(
    session: AsyncSession, conversation: Conversation, media_ids: Sequence[str]
) -> Sequence[BotMedia]:
    tenant = TenantContext.system(conversation.organization_id)
    return await BotMediaRepository(session, tenant).among(list(media_ids))


async def graph_media_ids(
    session: AsyncSession,
    runtime: Runtime,
    account: WhatsAppAccount,
    items: Sequence[BotMedia],
    *,
    upload: bool = True,
) -> dict[str, str]:
    """Each file's Graph media id for the account's number: the kept one while it is good, else
    (with ``upload``) a new upload (kept). A file Graph did not take now is left out."""
    kept = await session.scalars(
        select(BotMediaUpload).where(
            BotMediaUpload.whatsapp_account_id == account.id,
            BotMediaUpload.media_id.in_([m.id for m in items]),
            BotMediaUpload.uploaded_at > utcnow() - REUSE_FOR,
        )
    )
    ids = {row.media_id: row.graph_media_id for row in kept}
    missing = [m for m in items if m.id not in ids]
    if not missing or not upload:
        return ids
    token = account.access_token_encrypted
    access_token = runtime.secrets.decrypt(token) if token else None
    phone_number_id = account.phone_number_id
    await release_transaction(session)
    uploaded = {}
    async with GraphClient(runtime.settings.meta, access_token) as graph:
        for media in missing:
            graph_id = await _upload(runtime, graph, phone_number_id, media)
            if graph_id is not None:
                uploaded[media.id] = graph_id
    for media in missing:
        if media.id in uploaded:
            await _keep(session, media, account.id, uploaded[media.id])
    return {**ids, **uploaded}


async def _upload(runtime: Runtime, graph: GraphClient, phone_number_id: str, media: BotMedia) -> str | None:
    try:
        data, mime_type = await runtime.storage.read(media.storage_key)
        return await graph.upload_media(phone_number_id, data, mime_type, media.filename)
    except KeyError:
        log.warning("bot_media_file_missing", media_id=media.id)
    except GraphError as exc:
        log.info("bot_media_upload_deferred", media_id=media.id, code=exc.code)
    return None


def with_graph_id(outgoing: compose.Outgoing, graph_id: str) -> compose.Outgoing:
    kind = str(outgoing.graph["type"])
    graph = {**outgoing.graph, kind: {**outgoing.graph[kind], "id": graph_id}}
    media = {**(outgoing.media or {}), "providerMediaId": graph_id}
    return replace(outgoing, graph=graph, media=media)


async def _keep(session: AsyncSession, media: BotMedia, account_id: str, graph_id: str) -> None:
    now = utcnow()
    values = {"graph_media_id": graph_id, "uploaded_at": now, "updated_at": now}
    stmt = dialect_insert(session)(BotMediaUpload).values(
        id=new_id(),
        organization_id=media.organization_id,
        media_id=media.id,
        whatsapp_account_id=account_id,
        created_at=now,
        **values,
    )
    await session.execute(
        stmt.on_conflict_do_update(index_elements=["media_id", "whatsapp_account_id"], set_=values)
    )
