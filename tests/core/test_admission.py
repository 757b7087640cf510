"""The bound on work run at once: the whole process's, each organization's share, the waiting
organizations served in turn, and a wait that ends in 429 instead of forever."""

from __future__ import annotations

import asyncio
import re

import pytest
from starlette.types import Receive, Scope, Send

from cxinbox.core.admission import AdmissionBusy, FairAdmission, Precedence, ToolCallGate, caller_key


async def hold(admission: FairAdmission, org: str, started: list[str], release: asyncio.Event) -> None:
    async with admission.slot(org):
        started.append(org)
        await release.wait()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_no_more_than_the_total_run_at_once():
    admission = FairAdmission(total=3, per_organization=3, max_wait=10)
    started: list[str] = []
    release = asyncio.Event()
    tasks = [asyncio.create_task(hold(admission, f"org-{i}", started, release)) for i in range(5)]
    await settle()
    assert (len(started), admission.running) == (3, 3)
    release.set()
    await asyncio.gather(*tasks)
    assert (len(started), admission.running) == (5, 0)


async def test_one_organizations_flood_does_not_stop_anothers_single_call():
    admission = FairAdmission(total=4, per_organization=2, max_wait=10)
    started: list[str] = []
    release = asyncio.Event()
    flood = [asyncio.create_task(hold(admission, "flood", started, release)) for _ in range(50)]
    await settle()
    assert started == ["flood", "flood"] and admission.waiting("flood") == 48
    other = asyncio.Event()
    single = asyncio.create_task(hold(admission, "quiet", started, other))
    await settle()
    assert started[-1] == "quiet"  # at once: the flood waits for its own share, not the quiet one
    other.set()
    release.set()
    await asyncio.gather(single, *flood)
    assert admission.running == 0


async def test_waiting_organizations_take_free_slots_in_turn():
    admission = FairAdmission(total=1, per_organization=1, max_wait=10)
    started: list[str] = []
    gates = {org: asyncio.Event() for org in ("a", "b", "c")}
    first = asyncio.create_task(hold(admission, "a", started, gates["a"]))
    await settle()
    waiting = [asyncio.create_task(hold(admission, org, started, gates[org])) for org in "aaabbc"]
    await settle()
    for gate in gates.values():  # every slot ends as soon as it is taken
        gate.set()
    await asyncio.gather(first, *waiting)
    assert started == ["a", "a", "b", "c", "a", "b", "a"]


async def test_a_caller_that_waits_too_long_is_told_when_to_retry():
    admission = FairAdmission(total=1, per_organization=1, max_wait=0.2)
    release = asyncio.Event()
    holder = asyncio.create_task(hold(admission, "a", [], release))
    await settle()
    with pytest.raises(AdmissionBusy) as busy:
        async with admission.slot("b"):
            pass
    assert (busy.value.status_code, busy.value.code) == (429, "RATE_LIMITED")
    assert busy.value.headers == {"Retry-After": "1"}
    assert admission.waiting("b") == 0
    release.set()
    await holder
    async with admission.slot("b"):  # the slot it waited for was not lost
        assert admission.running == 1


async def test_a_cancelled_waiter_gives_its_turn_away():
    admission = FairAdmission(total=1, per_organization=1, max_wait=10)
    started: list[str] = []
    release = asyncio.Event()
    holder = asyncio.create_task(hold(admission, "a", started, release))
    await settle()
    gone = asyncio.create_task(hold(admission, "b", started, release))
    after = asyncio.create_task(hold(admission, "c", started, release))
    await settle()
    release.set()
    gone.cancel()  # the holder's slot frees before the cancelled waiter has left the line
    await asyncio.gather(holder, after)
    assert started == ["a", "c"] and admission.running == 0 and admission.waiting("b") == 0


def test_the_edge_tells_callers_apart_by_their_credential_headers_only():
    def scope(*headers: tuple[bytes, bytes]) -> dict[str, object]:
        return {"headers": [(b"host", b"a"), *headers]}

    alice = caller_key(scope((b"authorization", b"Bearer alice")))
    assert alice == caller_key({"headers": [(b"Authorization", b"Bearer alice"), (b"host", b"b")]})
    assert alice != caller_key(scope((b"authorization", b"Bearer bob")))
    assert alice != caller_key(scope((b"x-api-key", b"Bearer alice")))
    assert caller_key(scope()) == caller_key({"headers": []})  # no credential: one shared key


# ---- webhooks first ------------------------------------------------------------------------------


class Edge:
    """``ToolCallGate`` over an app whose ``/hook`` (a webhook) waits for ``release`` and whose
    ``/tool`` (a tool request) notes when it runs, in ``log``."""

    def __init__(self, precedence: Precedence) -> None:
        self.log: list[str] = []
        self.release = asyncio.Event()
        self.admission = FairAdmission(total=4, per_organization=4, max_wait=10, precedence=precedence)
        self.gate = ToolCallGate(
            self.app,
            routes=[(re.compile("^/tool$"), {"POST"})],
            admission=lambda _scope: self.admission,
            ahead=[(re.compile("^/hook$"), {"POST"})],
        )

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/hook":
            await self.release.wait()
        self.log.append(scope["path"])

    def request(self, path: str) -> asyncio.Task[None]:
        scope = {"type": "http", "method": "POST", "path": path, "headers": []}
        return asyncio.create_task(self.gate(scope, _never_called, _never_called))


async def _never_called(*_args: object) -> None:
    raise AssertionError("the test app neither reads nor answers")


async def test_a_tool_request_gives_way_while_a_webhook_is_in_flight():
    precedence = Precedence(max_give_way=60)
    edge = Edge(precedence)
    hook = edge.request("/hook")
    await settle()
    assert precedence.ahead == 1
    tool = edge.request("/tool")
    await settle()
    assert edge.log == [] and edge.admission.running == 1  # admitted, but not yet in the app
    edge.release.set()
    await asyncio.gather(hook, tool)
    assert edge.log == ["/hook", "/tool"] and precedence.ahead == 0


async def test_a_tool_request_goes_straight_in_without_webhooks():
    edge = Edge(Precedence(max_give_way=60))
    await edge.request("/tool")
    assert edge.log == ["/tool"]


async def test_a_tool_request_gives_way_for_a_bounded_time_only():
    """The starvation guard: a webhook that never ends does not hold tool requests forever."""
    precedence = Precedence(max_give_way=0.01)
    edge = Edge(precedence)
    hook = edge.request("/hook")
    await settle()
    await edge.request("/tool")
    assert edge.log == ["/tool"] and precedence.ahead == 1
    edge.release.set()
    await hook
    assert edge.log == ["/tool", "/hook"]


async def test_a_call_admitted_in_the_route_gives_way_too():
    precedence = Precedence(max_give_way=60)
    admission = FairAdmission(total=2, per_organization=2, max_wait=10, precedence=precedence)
    started: list[str] = []
    with precedence.going_first():
        call = asyncio.create_task(hold(admission, "org", started, asyncio.Event()))
        await settle()
        assert started == [] and admission.running == 1
    await settle()
    assert started == ["org"]
    call.cancel()
    await asyncio.gather(call, return_exceptions=True)
    assert admission.running == 0


async def test_an_admitted_caller_gives_way_at_a_checkpoint_of_its_own():
    precedence = Precedence(max_give_way=60)
    admission = FairAdmission(total=2, per_organization=2, max_wait=10, precedence=precedence)
    passed: list[str] = []

    async def checkpoint() -> None:
        await admission.give_way()
        passed.append("on")

    await checkpoint()  # no webhook in flight: straight through
    with precedence.going_first():
        waiting = asyncio.create_task(checkpoint())
        await settle()
        assert passed == ["on"]
    await waiting
    assert passed == ["on", "on"]
    await FairAdmission(total=1, per_organization=1, max_wait=1).give_way()  # no precedence: never waits
