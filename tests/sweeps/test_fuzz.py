"""Fuzz: every operation of the OpenAPI document, with generated valid and invalid requests, answers
without a 5xx and with every error in the contract's envelope.

Seeded and bounded for the suite (``FUZZ_EXAMPLES`` requests per operation and mode, 3 by default);
``make fuzz`` runs it longer and unseeded (``FUZZ_REPORT=file`` keeps the list of problems). Each
operation is called by the ADMIN of a fresh organization, so what one operation changes (a password,
a plan's seats) cannot hide another's bugs.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.fixtures.api import api_client
from tests.sweeps.fuzz import Findings, fuzz_operation, operations, sender

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "3"))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "") == ""


async def test_every_operation_survives_generated_requests(app, factory):
    findings = Findings()
    loop = asyncio.get_running_loop()
    swept = operations(app.openapi())
    # every operation but the event stream, whose generated requests would hold the run open
    methods = {"get", "post", "put", "patch", "delete"}
    assert len(swept) == sum(len(methods & set(item)) for item in app.openapi()["paths"].values()) - 1
    async with api_client(app, client=("10.255.0.1", 40000), raise_app_exceptions=False) as client:
        for operation in swept:
            org = await factory.org()
            send = sender(client, org.admin.headers, loop)
            await asyncio.to_thread(
                fuzz_operation, operation, send, findings, examples=EXAMPLES, derandomize=DERANDOMIZE
            )
    if os.environ.get("FUZZ_REPORT"):
        await asyncio.to_thread(Path(os.environ["FUZZ_REPORT"]).write_text, findings.report() + "\n")
    assert not findings.items, "problems found:\n" + findings.report()
