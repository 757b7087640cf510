"""Pacing sends to Meta's limits, shared by every process through the rate-limit storage (Redis
when configured): a number sends at most ``whatsapp_send_rate_per_second`` messages per second
(Meta's default throughput is 80), and a recipient that hit the pair rate limit (131056) is held
back for a while, whatever message is next for them. A number Meta throttled (130429, 80007) is
held back as a whole: its sends, a campaign's included, wait instead of failing."""

from __future__ import annotations

import asyncio

from cxinbox.core.ratelimit import Limit
from cxinbox.runtime import Runtime

NUMBER_SCOPE = "whatsapp-send"
PAIR_SCOPE = "whatsapp-pair"
THROTTLE_SCOPE = "whatsapp-throttled"
#: how long a send waits in place for its number's next slot before it is put back on the schedule
MAX_WAIT_SECONDS = 5.0


def _pair(phone_number_id: str, recipient: str) -> str:
    return f"{phone_number_id}:{recipient}"


async def wait_turn(runtime: Runtime, phone_number_id: str, recipient: str) -> float:
    """Wait for the number's next send slot. 0.0 when the send may go now; otherwise the seconds to
    put it off (the recipient is held back, or the number stayed saturated for too long)."""
    held = await runtime.limiter.held_for(PAIR_SCOPE, _pair(phone_number_id, recipient))
    if held > 0:
        return held
    return await wait_slots(runtime, phone_number_id, 1)


async def wait_slots(runtime: Runtime, phone_number_id: str, slots: int) -> float:
    """Wait until the number may send ``slots`` messages now (at most its rate per second), and
    take them. 0.0 when taken; otherwise the seconds to put the sends off (Meta throttled the
    number, or it stayed saturated for ``MAX_WAIT_SECONDS``). ``slots`` is at most the rate."""
    held = await number_held_for(runtime, phone_number_id)
    if held > 0:
        return held
    rate = runtime.settings.whatsapp_send_rate_per_second
    limit = Limit(NUMBER_SCOPE, f"{rate}/second")
    waited = 0.0
    while (wait := await runtime.limiter.acquire(limit, phone_number_id, slots)) > 0:
        if waited >= MAX_WAIT_SECONDS:
            return wait
        await asyncio.sleep(wait)
        waited += wait
    return 0.0


async def held_recipients(runtime: Runtime, phone_number_id: str, recipients: list[str]) -> set[str]:
    """Those of ``recipients`` held back after Meta's pair rate limit (one round trip for all)."""
    pairs = {_pair(phone_number_id, r): r for r in recipients}
    return {pairs[pair] for pair in await runtime.limiter.held_of(PAIR_SCOPE, list(pairs))}


async def hold_recipient(runtime: Runtime, phone_number_id: str, recipient: str, seconds: float) -> None:
    await runtime.limiter.hold(PAIR_SCOPE, _pair(phone_number_id, recipient), seconds)


async def hold_number(runtime: Runtime, phone_number_id: str, seconds: float) -> None:
    await runtime.limiter.hold(THROTTLE_SCOPE, phone_number_id, seconds)


async def number_held_for(runtime: Runtime, phone_number_id: str) -> float:
    """Seconds the number still waits after Meta throttled it, 0.0 when it may send."""
    return await runtime.limiter.held_for(THROTTLE_SCOPE, phone_number_id)
