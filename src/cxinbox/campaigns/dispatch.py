"""Sending a campaign: one step at a time on the bulk queue, each recipient exactly once.

A step locks the campaign row and, if it is RUNNING, claims the next PENDING recipients (in request
order) with one ``UPDATE … WHERE status = 'PENDING'`` (their rows read ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), writes their template messages and outbox rows in a few statements (``batch_compose``),
and adds their price to what the campaign spent, all in one transaction (on SQLite written
``SQLITE_PART`` recipients at a time, committed between two parts when a request waits at the write
gate, the campaign row read fresh for the next part); after the commit one batch delivery job
(``whatsapp.outbound.batch_delivery``) sends those rows through the per-number governor. A crash
before a commit leaves its recipients PENDING; after it, their outbox rows are durable: a row not
claimed yet is sent by its own delivery job or the sweeper, a row claimed right before its Graph
call is never sent again (its outcome, if the answer was lost, is reconciled by status webhooks or
reported UNKNOWN: ``whatsapp.outbound.delivery``). A pause (or a second worker) waits on the
campaign row, so a recipient is claimed once and never skipped.

Each step schedules the next one in the durable job schedule, debounced by campaign (so restarts,
resumes and the sweeper never run two chains): after half the time the number needs to send the
batch at its governor rate, counted from the step's start. Up to ``BATCHES_AHEAD`` batches are
queued, so the next one is written while the last is still waiting for the governor: the governor
sets the pace, not the steps' timing (a step one batch's time after the last lost each step's own
time and the schedule's delay at every batch: -10 % at 80/s). A step waits instead of claiming when:
- the number's sends are not done yet (``BATCHES_AHEAD`` batches in flight, or a written send has
  waited ``QUEUED_AHEAD_SECONDS`` for its batch: the number sends slower than its rate),
- Meta throttled the number (``THROTTLED``, until the governor lets it send again),
- the messaging tier's unique recipients per 24 h are used up (``TIER_LIMIT``, until the oldest
  send leaves the window).
A campaign with a ``budget`` claims only the recipients whose price still fits and pauses with
``BUDGET_REACHED`` at the first that does not; recipients inside their 24-hour window cost nothing
for a utility template.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import structlog
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from cxinbox.campaigns.estimates import card_of
from cxinbox.campaigns.recipients import free_inside_window
from cxinbox.campaigns.tiers import room_left
from cxinbox.campaigns.views import publish_campaign
from cxinbox.core.clock import utcnow
from cxinbox.core.db import WritePriority, release_transaction, write_gate_of, write_priority
from cxinbox.core.errors import ValidationFailed
from cxinbox.core.jobs import Queue, enqueue, enqueue_debounced, job
from cxinbox.core.scheduler import periodic
from cxinbox.core.tenancy import TenantContext
from cxinbox.models.campaigns import Campaign, CampaignRecipient, CampaignStatus, RecipientStatus
from cxinbox.models.inbox import SenderType
from cxinbox.models.outbound import OutboxEntry, OutboxState
from cxinbox.models.templates import MessageTemplate, TemplateStatus
from cxinbox.models.whatsapp import WhatsAppAccount
from cxinbox.runtime import Runtime
from cxinbox.templates.schemas import TemplateVariables
from cxinbox.templates.sending import outgoing
from cxinbox.whatsapp.inbound.threads import open_outbound_threads
from cxinbox.whatsapp.outbound import compose, governor
from cxinbox.whatsapp.outbound.batch_compose import Queued, queue_messages
from cxinbox.whatsapp.outbound.batch_delivery import deliver_batch
from cxinbox.whatsapp.outbound.id_sets import PerDialect, among, pair_params, pairs
from cxinbox.whatsapp.outbound.refusal import send_refusal

log = structlog.get_logger(__name__)

#: a batch is what the number sends in this many seconds at its governor rate, capped: a step is
#: one transaction, and on SQLite every webhook acknowledgement waits for it
BATCH_SECONDS = 1.0
MIN_BATCH, MAX_BATCH = 10, 200
#: on SQLite (one writer per process: a webhook's acknowledgement waits for the transaction in
#: progress) a step writes its batch this many recipients at a time (some 200 ms of writing at
#: 1,000/s on a busy machine), and commits what it did so far before a part (the first one too)
#: only if a request waits at the write gate. PostgreSQL writes the batch at once (its locks hold
#: only the batch's rows).
SQLITE_PART = 50
#: batches written and not yet sent at most
BATCHES_AHEAD = 2
#: the longest a written send waits for its batch to claim it before steps stop writing more: half
#: ``delivery.SWEEP_GRACE`` (after which the sweeper would send it on its own), and more than a
#: batch's sending time at the rates a busy machine reaches, so that the next batch is still written
#: while the last one is sent
QUEUED_AHEAD_SECONDS = 5.0
#: steps per batch's sending time: the next batch is written while the last one waits for its slots
STEPS_PER_BATCH = 2
#: how often a step looks again while the batches in flight are still being sent: at most this,
#: at least ``MIN_RECHECK_SECONDS``, else half a batch's sending time
IN_FLIGHT_RECHECK_SECONDS = 0.5
MIN_RECHECK_SECONDS = 0.1
#: the longest a tier-limited campaign waits before it looks again
TIER_RECHECK_SECONDS = 600.0
SWEEP_BATCH = 500

THROTTLED, TIER_LIMIT, BUDGET_REACHED = "THROTTLED", "TIER_LIMIT", "BUDGET_REACHED"
TEMPLATE_NOT_APPROVED = "TEMPLATE_NOT_APPROVED"


async def schedule_dispatch(session: AsyncSession, campaign: Campaign, delay: float) -> None:
    """The campaign's next step in ``delay`` seconds (one pending step per campaign)."""
    await enqueue_debounced(
        session, dispatch_campaign, key=campaign.id, delay=delay, max_wait=delay, campaign_id=campaign.id
    )


def batch_size(runtime: Runtime) -> int:
    rate = runtime.settings.whatsapp_send_rate_per_second
    return max(MIN_BATCH, min(MAX_BATCH, int(rate * BATCH_SECONDS)))


def _locked(campaign_id: str) -> Any:
    return (
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


@job("campaigns.dispatch", queue=Queue.BULK, attempts=5)
async def dispatch_campaign(runtime: Runtime, session: AsyncSession, campaign_id: str) -> None:
    campaign = await session.scalar(_locked(campaign_id))
    if campaign is None:
        return
    now = utcnow()
    if campaign.status is CampaignStatus.SCHEDULED:
        if campaign.scheduled_at is not None and campaign.scheduled_at > now:
            await schedule_dispatch(session, campaign, (campaign.scheduled_at - now).total_seconds())
            return
        campaign.status, campaign.status_reason, campaign.started_at = CampaignStatus.RUNNING, None, now
    if campaign.status is not CampaignStatus.RUNNING:
        return
    await _step(Step(runtime, session, campaign, now))


class Step:
    def __init__(self, runtime: Runtime, session: AsyncSession, campaign: Campaign, now: datetime) -> None:
        self.runtime, self.session, self.campaign, self.now = runtime, session, campaign, now

    async def lock(self) -> bool:
        """The campaign locked again (its row read fresh), after a part was committed: whether it
        still runs (a pause or a cancel may have come between parts)."""
        await self.session.scalar(_locked(self.campaign.id))
        return self.campaign.status is CampaignStatus.RUNNING

    async def wait(self, reason: str | None, seconds: float) -> None:
        if self.campaign.status_reason != reason:
            self.campaign.status_reason = reason
            await publish_campaign(self.session, self.campaign)
        await schedule_dispatch(self.session, self.campaign, seconds)

    async def stop(self, status: CampaignStatus, reason: str | None) -> None:
        self.campaign.status, self.campaign.status_reason = status, reason
        if status is CampaignStatus.COMPLETED:
            self.campaign.completed_at = self.now
        await publish_campaign(self.session, self.campaign)
        log.info("campaign_stopped", campaign_id=self.campaign.id, status=status.value, reason=reason)


async def _step(step: Step) -> None:
    session, campaign, runtime = step.session, step.campaign, step.runtime
    account = await session.get_one(WhatsAppAccount, campaign.whatsapp_account_id)
    template = await session.get(MessageTemplate, campaign.template_id) if campaign.template_id else None
    if (refusal := send_refusal(account.status)) is not None:
        return await step.stop(CampaignStatus.PAUSED, refusal.code)
    if template is None or template.status is not TemplateStatus.APPROVED:
        return await step.stop(CampaignStatus.PAUSED, TEMPLATE_NOT_APPROVED)
    if (held := await governor.number_held_for(runtime, account.phone_number_id)) > 0:
        return await step.wait(THROTTLED, held)
    in_flight = await _count(session, campaign.id, RecipientStatus.SENDING)
    size = batch_size(runtime)
    rate = runtime.settings.whatsapp_send_rate_per_second
    recheck = max(MIN_RECHECK_SECONDS, min(IN_FLIGHT_RECHECK_SECONDS, size / rate / STEPS_PER_BATCH))
    if in_flight >= size * BATCHES_AHEAD or (in_flight and await _sending_behind(step)):
        return await step.wait(
            campaign.status_reason if campaign.status_reason == THROTTLED else None, recheck
        )
    room = await room_left(runtime, session, account, step.now)
    wanted = min(size, size * BATCHES_AHEAD - in_flight)
    wanted = wanted if room.left is None else min(wanted, room.left)
    if wanted <= 0:
        frees_in = (room.frees_at - step.now).total_seconds() if room.frees_at else TIER_RECHECK_SECONDS
        return await step.wait(TIER_LIMIT, max(1.0, min(TIER_RECHECK_SECONDS, frees_in)))
    claimed, over_budget, running = await _claim_in_parts(step, account, template, wanted)
    if not running:
        return  # paused or cancelled between parts: the parts claimed are sent, nothing more
    if over_budget:
        return await step.stop(CampaignStatus.PAUSED, BUDGET_REACHED)
    if not claimed:
        if in_flight == 0 and await _count(session, campaign.id, RecipientStatus.PENDING) == 0:
            return await step.stop(CampaignStatus.COMPLETED, None)
        return await step.wait(None, recheck)
    if campaign.status_reason is not None:
        campaign.status_reason = None
        await publish_campaign(session, campaign)
    # the claimed recipients still show as PENDING: progress is published as their statuses come
    # (``following``), not here, which spares each step a count over every recipient. The next step
    # is due when the number has sent half this batch, counted from this step's start.
    elapsed = (utcnow() - step.now).total_seconds()
    await schedule_dispatch(session, campaign, max(0.0, claimed / rate / STEPS_PER_BATCH - elapsed))


async def _claim_in_parts(
    step: Step, account: WhatsAppAccount, template: MessageTemplate, wanted: int
) -> tuple[int, bool, bool]:
    """Claim and queue up to ``wanted`` recipients: how many, whether the budget stopped it,
    whether the campaign still runs. The recipients are read and priced once; on SQLite they are
    written ``SQLITE_PART`` at a time, and what the step did so far commits before a part (the first
    one too) only when a request waits at the write gate: a webhook's acknowledgement that arrives
    during the step's reads (its checks, candidates and prices) or during a part then waits for
    those alone, not for the rest of the step. A commit costs the commit and the campaign read
    again, so a batch with nobody waiting stays one transaction. A committed part is whole: a crash
    after it leaves it queued (the outbox sweeper sends its rows if their batch job is lost with the
    process) and the rest PENDING. One batch delivery job sends them all, after the step's last
    commit."""
    candidates = await _candidates(step, wanted)
    if not candidates:
        return 0, False, True
    prices = await _prices(step, template, candidates)
    chosen = _within_budget(step.campaign, candidates, prices)
    over_budget = len(chosen) < len(candidates)
    gate = write_gate_of(step.runtime.engine)
    part = SQLITE_PART if gate is not None else max(1, len(chosen))
    claimed, running = 0, True
    queued: list[str] = []
    for start in range(0, len(chosen), part):
        if gate is not None and gate.waiting(WritePriority.FOREGROUND):
            await release_transaction(step.session)
            # the step stepped aside for the waiting requests only: it takes the gate again after
            # them, ahead of the jobs queued meanwhile (behind those, a step at a saturated gate
            # would wait a whole round of drains and recordings at each part it commits)
            with write_priority(WritePriority.FOREGROUND):
                running = await step.lock()
            if not running:
                over_budget = False
                break
        claimed += await _claim(step, account, template, chosen[start : start + part], prices, queued)
    if queued:
        enqueue(step.session, deliver_batch, outbox_ids=queued)
    return claimed, over_budget, running


async def _sending_behind(step: Step) -> bool:
    """Whether a send written by an earlier step has waited for its batch's claim longer than
    ``QUEUED_AHEAD_SECONDS``: the number sends slower than its rate (a busy machine), so no more
    is written until it catches up. Otherwise unclaimed rows would pass the outbox sweeper's grace,
    and each would be sent by a delivery job of its own, the costliest way."""
    oldest = await step.session.scalar(
        select(func.min(OutboxEntry.created_at))
        .join(CampaignRecipient, CampaignRecipient.message_id == OutboxEntry.message_id)
        .where(
            CampaignRecipient.campaign_id == step.campaign.id,
            CampaignRecipient.status == RecipientStatus.SENDING,
            OutboxEntry.state == OutboxState.QUEUED,
        )
    )
    return oldest is not None and (step.now - oldest).total_seconds() > QUEUED_AHEAD_SECONDS


async def _count(session: AsyncSession, campaign_id: str, status: RecipientStatus) -> int:
    stmt = select(func.count(CampaignRecipient.id)).where(
        CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.status == status
    )
    return int(await session.scalar(stmt) or 0)


async def _candidates(step: Step, wanted: int) -> list[CampaignRecipient]:
    """The next ``wanted`` PENDING recipients, in request order (locked, skipping those another
    step holds, on PostgreSQL)."""
    return list(
        await step.session.scalars(
            select(CampaignRecipient)
            .where(
                CampaignRecipient.campaign_id == step.campaign.id,
                CampaignRecipient.status == RecipientStatus.PENDING,
            )
            .order_by(CampaignRecipient.position)
            .limit(wanted)
            .with_for_update(skip_locked=True)
        )
    )


def _within_budget(
    campaign: Campaign, candidates: list[CampaignRecipient], prices: dict[str, Decimal]
) -> list[CampaignRecipient]:
    """The first candidates whose prices fit what is left of the campaign's budget (all without one)."""
    if campaign.budget is None:
        return candidates
    left, spending = campaign.budget - campaign.spent, Decimal(0)
    for count, recipient in enumerate(candidates):
        spending += prices[recipient.id]
        if spending > left:
            return candidates[:count]
    return candidates


async def _claim(
    step: Step,
    account: WhatsAppAccount,
    template: MessageTemplate,
    chosen: list[CampaignRecipient],
    prices: dict[str, Decimal],
    queued: list[str],
) -> int:
    """Claim those of ``chosen`` still PENDING and queue their messages, their outbox rows' ids
    added to ``queued``, their prices to what the campaign spent: how many."""
    if not chosen:
        return 0
    stmt, _ = _CLAIM(step.session)
    claimed = set(await step.session.scalars(stmt, {"ids": [r.id for r in chosen], "now": step.now}))
    chosen = [r for r in chosen if r.id in claimed]
    queued += await _queue_messages(step, account, template, chosen, prices)
    step.campaign.spent += sum((prices[r.id] for r in chosen), Decimal(0))
    return len(chosen)


#: the recipients' table: the step's UPDATEs are Core statements (an ORM-enabled UPDATE costs an
#: autoflush and the ORM's bulk-update set-up at every execution, and changes no loaded object here)
_RECIPIENTS = cast(Table, CampaignRecipient.__table__)


def _claim_statement(dialect: str) -> Any:
    """Recipients bound as ``ids`` still PENDING become SENDING (built once per dialect)."""
    table = _RECIPIENTS.c
    return (
        update(_RECIPIENTS)
        .where(among(table.id, "ids", dialect), table.status == RecipientStatus.PENDING)
        .values(status=RecipientStatus.SENDING, updated_at=bindparam("now", type_=table.updated_at.type))
        .returning(table.id)
    )


_CLAIM = PerDialect(_claim_statement)


async def _prices(
    step: Step, template: MessageTemplate, recipients: list[CampaignRecipient]
) -> dict[str, Decimal]:
    """Each recipient's price now: nothing for a utility template inside the 24-hour window."""
    card = card_of(step.runtime)
    tenant = TenantContext.system(step.campaign.organization_id)
    phones = [r.phone for r in recipients]
    free = await free_inside_window(step.session, tenant, card, template, phones)
    return {
        r.id: price for r, price in zip(recipients, card.prices(template.category, phones, free), strict=True)
    }


async def _queue_messages(
    step: Step,
    account: WhatsAppAccount,
    template: MessageTemplate,
    recipients: list[CampaignRecipient],
    prices: dict[str, Decimal],
) -> list[str]:
    """Each claimed recipient's template message and outbox row, written together
    (``batch_compose``): the outbox rows' ids."""
    session, runtime = step.session, step.runtime
    threads = await open_outbound_threads(session, account, [r.phone for r in recipients])
    messages: dict[str, compose.Outgoing | ValidationFailed] = {}
    sends, sent = [], []
    for recipient in recipients:
        # the campaign's own values (most recipients) are rendered once, under the key ""
        key, values = "", step.campaign.variables or {}
        if recipient.variables:
            values = recipient.variables
            key = TemplateVariables.model_validate(values).model_dump_json()
        if key not in messages:
            try:
                messages[key] = await outgoing(
                    session, runtime, template, TemplateVariables.model_validate(values)
                )
            except ValidationFailed as exc:
                messages[key] = exc
        found = messages[key]
        if isinstance(found, ValidationFailed):
            recipient.status, recipient.cost = RecipientStatus.FAILED, Decimal(0)
            recipient.error_code, recipient.error_message = found.code, found.message
            continue
        sends.append((threads[recipient.phone], found))
        sent.append(recipient)
    queued = await queue_messages(session, runtime, account, sends, compose.Sender(SenderType.SYSTEM))
    await _sending(session, prices, sent, queued)
    return [ids.outbox_id for ids in queued]


def _sending_statement(dialect: str) -> Any:
    """Recipients (bound as ``keys``) get their message (``values``) and their ``cost``."""
    messages, table = pairs(dialect), _RECIPIENTS.c
    return (
        update(_RECIPIENTS)
        .where(table.id == messages.c.key)
        .values(
            message_id=messages.c.value,
            cost=bindparam("cost", type_=table.cost.type),
            status=RecipientStatus.SENDING,
        )
    )


_SENDING = PerDialect(_sending_statement)


async def _sending(
    session: AsyncSession,
    prices: dict[str, Decimal],
    recipients: list[CampaignRecipient],
    queued: list[Queued],
) -> None:
    """Each queued recipient's message and price, one UPDATE per distinct price (most batches have
    one): the loaded rows are not changed one by one and flushed."""
    stmt, dialect = _SENDING(session)
    by_cost: dict[Decimal, list[tuple[str, str]]] = defaultdict(list)
    for recipient, ids in zip(recipients, queued, strict=True):
        by_cost[prices[recipient.id]].append((recipient.id, ids.message_id))
        set_committed_value(recipient, "message_id", ids.message_id)
        set_committed_value(recipient, "status", RecipientStatus.SENDING)
        set_committed_value(recipient, "cost", prices[recipient.id])
    for cost, rows in by_cost.items():
        params = pair_params(dialect, [r for r, _ in rows], [m for _, m in rows])
        await session.execute(stmt, {**params, "cost": cost})


@periodic(every_seconds=30)
@job("campaigns.sweep", attempts=1)
async def sweep_campaigns(runtime: Runtime, session: AsyncSession) -> None:
    """Give every RUNNING campaign (and every SCHEDULED one that is due) a next step, in case its
    chain was lost; the debounce keeps one step per campaign."""
    due = await session.scalars(
        select(Campaign)
        .where(
            (Campaign.status == CampaignStatus.RUNNING)
            | ((Campaign.status == CampaignStatus.SCHEDULED) & (Campaign.scheduled_at <= utcnow()))
        )
        .limit(SWEEP_BATCH)
    )
    for campaign in due:
        await schedule_dispatch(session, campaign, 0.0)
