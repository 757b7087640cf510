"""The guard's lean client (message sends): private destinations refused, in the URL or after
resolution; no redirect followed; no cookie kept; bodies and time capped; whether a failed request
may have arrived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from cxinbox.core import outbound_bulk
from cxinbox.core.outbound import DestinationRefused, OutboundUnavailable, ResponseTooLarge, shared_client
from cxinbox.core.outbound_bulk import BulkOutbound
from cxinbox.runtime import Runtime

CAPS = {"timeout": 5.0, "max_bytes": 1000}


@pytest.fixture
async def guarded() -> AsyncIterator[BulkOutbound]:
    session = BulkOutbound(allow_private=False)
    yield session
    await session.aclose()


@pytest.fixture
async def private() -> AsyncIterator[BulkOutbound]:
    session = BulkOutbound(allow_private=True)
    yield session
    await session.aclose()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hello",
        "http://localhost:{port}/hello",
        "http://[::1]:{port}/hello",
        "http://[::ffff:127.0.0.1]:{port}/hello",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
    ],
)
async def test_private_destinations_are_refused_before_any_request(guarded, web, url):
    before = len(web.paths())
    with pytest.raises(DestinationRefused):
        await guarded.request("POST", url.format(port=web.port), json={"a": 1}, **CAPS)
    assert len(web.paths()) == before


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x"])
async def test_only_http_urls_are_called(private, url):
    with pytest.raises((DestinationRefused, OutboundUnavailable)):
        await private.request("GET", url, **CAPS)


async def test_the_switch_lets_private_addresses_through_and_keeps_no_cookie(private, web):
    answer = await private.request("GET", f"{web.url}/hello", **CAPS)
    assert (answer.status, answer.body) == (200, b"hello")
    named = f"http://localhost:{web.port}"  # a cookie jar keeps a host name's cookie, not an address's
    await private.request("GET", f"{named}/cookie?value=abc", **CAPS)
    seen = await private.request("GET", f"{named}/headers", headers={"Authorization": "Bearer t"}, **CAPS)
    assert b'"authorization":"Bearer t"' in seen.body and b"cookie" not in seen.body


async def test_a_redirect_is_answered_not_followed(private, web):
    answer = await private.request("GET", f"{web.url}/redirect?to={web.url}/hello", **CAPS)
    assert answer.status == 302
    assert web.paths()[-1] == "/redirect"


async def test_a_body_over_the_cap_is_abandoned(private, web):
    assert len((await private.request("GET", f"{web.url}/stream?bytes=1000", **CAPS)).body) == 1000
    with pytest.raises(ResponseTooLarge):
        await private.request("GET", f"{web.url}/stream?bytes=100000", **CAPS)
    with pytest.raises(ResponseTooLarge):  # a small compressed body that inflates past the cap
        await private.request("GET", f"{web.url}/gzip?bytes=100000", **CAPS)


async def test_a_call_without_an_answer_may_have_arrived(private, web):
    async with asyncio.timeout(10):  # the call's 0.5 s ends it, not this
        with pytest.raises(OutboundUnavailable) as caught:
            await private.request("GET", f"{web.url}/hang", timeout=0.5, max_bytes=1000)
    assert caught.value.retryable and caught.value.may_have_arrived


async def test_a_connection_refused_never_arrived(private):
    with pytest.raises(OutboundUnavailable) as caught:
        await private.request("POST", "http://127.0.0.1:9/", json={}, **CAPS)
    assert caught.value.retryable and not caught.value.may_have_arrived


async def test_the_shared_session_is_one_per_setting_and_kept_until_closed():
    shared = outbound_bulk.shared_bulk_session
    assert shared(allow_private=False) is shared(allow_private=False)
    assert shared(allow_private=True) is not shared(allow_private=False)
    closing = shared(allow_private=True)
    await outbound_bulk.close_bulk_sessions()
    assert shared(allow_private=True) is not closing
    await outbound_bulk.close_bulk_sessions()


async def test_a_runtime_that_stops_leaves_the_loops_shared_clients_to_the_runtimes_still_running(
    settings, web
):
    """Tests run several runtimes in one event loop: the first to stop closed the loop's shared
    session under the others' sends in flight (their claims then waited for reconciliation)."""
    first, second = (
        Runtime(settings.model_copy(update={"redis_url": None, "redis_prefix": f"cxinbox-test-{n}"}))
        for n in ("a", "b")
    )
    await first.start(workers=False)
    await second.start(workers=False)
    try:
        bulk = outbound_bulk.shared_bulk_session(allow_private=True)
        client = shared_client(allow_private=True)
        await first.stop()
        assert outbound_bulk.shared_bulk_session(allow_private=True) is bulk
        assert shared_client(allow_private=True) is client
        answer = await bulk.request("GET", f"{web.url}/hello", **CAPS)
        assert (answer.status, answer.body) == (200, b"hello")
    finally:
        await second.stop()
