"""What Meta posts to the server during the campaigns bench: the ``sent`` status of each message it
accepted (with the send's ``biz_opaque_callback_data``, as Meta echoes it), and a stream of inbound
customer messages whose acknowledgement time is measured."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import statistics
import time
import uuid
from typing import Any

import httpx

from bench.crash import APP_SECRET

#: statuses per posted body (Meta batches several changes in one delivery)
STATUSES_PER_BODY = 100


def signed(payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": signature}


def _body(number: str, value: dict[str, Any]) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": number},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": number, "changes": [{"value": value, "field": "messages"}]}],
    }


async def post_sent_statuses(
    client: httpx.AsyncClient, number: str, sends: list[tuple[str, str, str]]
) -> None:
    """``sent`` for each ``(to, wamid, callback data)``, as Meta reports the messages it accepted."""
    now = str(int(time.time()))
    for start in range(0, len(sends), STATUSES_PER_BODY):
        statuses = [
            {
                "id": wamid,
                "status": "sent",
                "timestamp": now,
                "recipient_id": to,
                "biz_opaque_callback_data": key,
            }
            for to, wamid, key in sends[start : start + STATUSES_PER_BODY]
        ]
        raw, headers = signed(_body(number, {"statuses": statuses}))
        (await client.post("/webhooks/whatsapp", content=raw, headers=headers)).raise_for_status()


async def ack_times(
    client: httpx.AsyncClient, number: str, seconds: float, rate: float = 20.0
) -> list[float]:
    """Post one inbound customer message every ``1 / rate`` s for ``seconds``, one at a time;
    answers each acknowledgement's time in ms."""
    run = uuid.uuid4().hex[:10]
    times: list[float] = []
    deadline = time.monotonic() + seconds
    index = 0
    while time.monotonic() < deadline:
        started = time.monotonic()
        customer = f"1666{index % 50:08d}"
        message = {
            "from": customer,
            "id": f"wamid.bench.{run}.{index}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": f"Question {index}"},
        }
        contacts = [{"profile": {"name": f"Customer {index % 50}"}, "wa_id": customer}]
        raw, headers = signed(_body(number, {"contacts": contacts, "messages": [message]}))
        (await client.post("/webhooks/whatsapp", content=raw, headers=headers)).raise_for_status()
        times.append((time.monotonic() - started) * 1000)
        index += 1
        await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))
    return times


def p99(times: list[float]) -> float:
    return statistics.quantiles(times, n=100)[98] if len(times) >= 2 else (times[0] if times else 0.0)
