"""The outbound-HTTP guard: private destinations refused after resolution (every spelling, every
redirect hop), redirects bounded, credentials kept to their origin, bodies and time capped. Each
rule is tried on both transports: ``OutboundClient`` (httpx, one caller's) and ``LeanClient``
(aiohttp, the shared client of LLM and tool calls)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import structlog.testing

from cxinbox.core import outbound
from cxinbox.core.outbound import (
    Answer,
    DestinationRefused,
    LeanClient,
    OutboundClient,
    OutboundUnavailable,
    ResponseTooLarge,
    is_public_address,
)


@pytest.fixture
def public_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests have no public host to start from: 127.0.0.1 plays one, every other address is judged
    as always. The check under test (on each resolved address of each hop) is unchanged."""
    judged = outbound.is_public_address
    first_hop = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(
        outbound, "is_public_address", lambda address: address == first_hop or judged(address)
    )


@pytest.fixture(params=["httpx", "aiohttp"])
def guarded(request: pytest.FixtureRequest) -> Callable[..., OutboundClient | LeanClient]:
    """Opens a client of the guard on each transport (both are async context managers)."""

    def open_client(*, allow_private: bool, **caps: Any) -> OutboundClient | LeanClient:
        if request.param == "httpx":
            return OutboundClient(allow_private=allow_private, **caps)
        return LeanClient(allow_private=allow_private, follow_redirects=True, **caps)

    return open_client


def body(response: httpx.Response | Answer) -> bytes:
    return response.content if isinstance(response, httpx.Response) else response.body


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    ],
)
def test_private_and_reserved_addresses_are_not_public(address):
    assert not is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_are_public(address):
    assert is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/hello",
        "http://localhost:{port}/hello",
        "http://2130706433:{port}/hello",  # 127.0.0.1 as one decimal number
        "http://0x7f.1:{port}/hello",
        "http://017700000001:{port}/hello",
        "http://0:{port}/hello",
        "http://[::1]:{port}/hello",
        "http://[::ffff:127.0.0.1]:{port}/hello",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.255.255.1/",
    ],
)
async def test_private_destinations_are_refused_before_any_request(guarded, web, url):
    before = len(web.paths())
    async with guarded(allow_private=False) as http:
        with pytest.raises(DestinationRefused):
            await http.request("GET", url.format(port=web.port))
    assert len(web.paths()) == before


async def test_the_switch_lets_private_addresses_through(guarded, web):
    async with guarded(allow_private=True) as http:
        response = await http.request("GET", f"{web.url}/hello")
    assert body(response) == b"hello"


@pytest.mark.parametrize(
    "target",
    [
        "http://10.255.255.1/",
        "http://169.254.169.254/latest/",
        "http://[::1]:{port}/hello",
        "http://2130706434:{port}/hello",  # 127.0.0.2: loopback, not the address playing public
    ],
)
async def test_a_redirect_to_a_private_host_is_refused(guarded, web, public_loopback, target):
    async with guarded(allow_private=False) as http:
        with pytest.raises(DestinationRefused):
            await http.request("GET", f"{web.url}/redirect", params={"to": target.format(port=web.port)})


async def test_a_redirect_is_followed_and_checked_with_the_callers_rule(guarded, web):
    async with guarded(allow_private=True) as http:
        followed = await http.request("GET", f"{web.url}/redirect", params={"to": f"{web.url}/hello"})
        with pytest.raises(DestinationRefused):
            await http.request(
                "GET",
                f"{web.url}/redirect",
                params={"to": f"http://localhost:{web.port}/hello"},
                trusted=lambda url: url.host == "127.0.0.1",
            )
    assert body(followed) == b"hello"
    assert web.paths()[-1] == "/redirect"  # the untrusted hop was never sent


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:25/x"])
async def test_a_redirect_to_another_scheme_is_refused(guarded, web, target):
    async with guarded(allow_private=True) as http:
        with pytest.raises(DestinationRefused):
            await http.request("GET", f"{web.url}/redirect", params={"to": target})


async def test_redirects_are_bounded(guarded, web):
    hop = f"{web.url}/hello"
    for _ in range(4):
        hop = str(httpx.URL(f"{web.url}/redirect", params={"to": hop}))
    async with guarded(allow_private=True, max_redirects=3) as http:
        with pytest.raises(DestinationRefused):
            await http.request("GET", hop)


async def test_credentials_stay_with_their_origin(guarded, web):
    secret = {"Authorization": "Bearer secret-token", "Cookie": "session=secret"}
    other_origin = f"http://localhost:{web.port}/headers"
    async with guarded(allow_private=True) as http:
        same = await http.request(
            "GET", f"{web.url}/redirect", params={"to": f"{web.url}/headers"}, headers=secret
        )
        other = await http.request("GET", f"{web.url}/redirect", params={"to": other_origin}, headers=secret)
    assert same.json()["authorization"] == "Bearer secret-token"
    assert "authorization" not in other.json() and "cookie" not in other.json()


async def test_a_body_over_the_cap_is_abandoned(guarded, web):
    async with guarded(allow_private=True, max_bytes=1000) as http:
        assert len(body(await http.request("GET", f"{web.url}/stream", params={"bytes": 1000}))) == 1000
        with pytest.raises(ResponseTooLarge):
            await http.request("GET", f"{web.url}/stream", params={"bytes": 10_000_000})
        with pytest.raises(ResponseTooLarge):  # a small compressed body that inflates past the cap
            await http.request("GET", f"{web.url}/gzip", params={"bytes": 10_000_000})


async def test_a_compressed_body_is_answered_decoded(guarded, web):
    async with guarded(allow_private=True) as http:
        response = await http.request("GET", f"{web.url}/gzip", params={"bytes": 5000})
    assert body(response) == bytes(5000) and "content-encoding" not in response.headers


async def test_the_whole_call_is_bounded_in_time(guarded, web):
    """The client's cap is 0.5 s: it ends the call (and not the test's 10 s)."""
    async with asyncio.timeout(10), guarded(allow_private=True, timeout=0.5) as http:
        with pytest.raises(OutboundUnavailable) as caught:
            await http.request("GET", f"{web.url}/hang")
    assert caught.value.retryable


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[list[str]]]:
    """Names of a test's own: each lookup of a name takes the next of its answers (the last one
    repeats). An attacker's DNS answers a public address to a check and a private one right after."""
    answers: dict[str, list[list[str]]] = {}
    system = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return system(host, port, *args, **kwargs)
        queue = answers[name]
        addresses = queue.pop(0) if len(queue) > 1 else queue[0]
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0))) for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


async def test_a_name_with_any_private_address_is_refused(guarded, web, public_loopback, dns):
    """127.0.0.2 is loopback (only 127.0.0.1 plays a public address here): the name is refused,
    though one of its addresses would pass."""
    dns["mixed.test"] = [["127.0.0.1", "127.0.0.2"]]
    before = len(web.paths())
    async with guarded(allow_private=False) as http:
        with pytest.raises(DestinationRefused):
            await http.request("GET", f"http://mixed.test:{web.port}/hello")
    assert len(web.paths()) == before


async def test_the_connection_goes_to_the_address_that_was_checked(guarded, web, public_loopback, dns):
    """DNS rebinding: the name answers a public address to the first lookup and a private one to
    every later lookup. The guard connects to what it checked (a second lookup to connect would
    reach 127.0.0.2, where nothing listens), and a redirect to the name is looked up and refused."""
    dns["rebind.test"] = [["127.0.0.1"], ["127.0.0.2"]]
    async with guarded(allow_private=False) as http:
        response = await http.request("GET", f"http://rebind.test:{web.port}/hello")
        assert body(response) == b"hello"
        dns["rebound.test"] = [["127.0.0.2"]]
        with pytest.raises(DestinationRefused):
            await http.request(
                "GET",
                f"http://rebind.test:{web.port}/redirect",
                params={"to": f"http://rebound.test:{web.port}/"},
            )


async def test_a_host_that_does_not_resolve_is_a_retryable_failure(guarded):
    async with guarded(allow_private=False) as http:
        with pytest.raises(OutboundUnavailable):
            await http.request("GET", "http://no-such-host.invalid/")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "http:///nohost"])
async def test_only_http_urls_are_called(guarded, url):
    async with guarded(allow_private=True) as http:
        with pytest.raises((DestinationRefused, OutboundUnavailable)):
            await http.request("GET", url)


async def test_a_refusal_is_logged_without_the_url_or_headers(guarded, web, public_loopback):
    secret = "secret-token-0b5e"
    with structlog.testing.capture_logs() as logs:
        async with guarded(allow_private=False) as http:
            with pytest.raises(DestinationRefused):
                await http.request(
                    "GET",
                    f"{web.url}/redirect",
                    params={"to": f"http://169.254.169.254/latest/?token={secret}"},
                    headers={"Authorization": f"Bearer {secret}"},
                )
    # the shared runtime's background jobs log into the same capture: look at the guard's lines only
    outbound = [entry for entry in logs if entry["event"].startswith("outbound_")]
    assert [entry["event"] for entry in outbound] == ["outbound_refused"]
    assert outbound[0]["host"] == "169.254.169.254"
    assert secret not in repr(logs)


async def test_a_stream_is_guarded_capped_and_never_redirected(web):
    before = len(web.paths())
    async with OutboundClient(allow_private=False) as http:
        with pytest.raises(DestinationRefused):
            async with http.stream("GET", f"{web.url}/hello"):
                pass
    assert len(web.paths()) == before
    async with OutboundClient(allow_private=True, max_bytes=1000) as http:
        async with http.stream("GET", f"{web.url}/hello") as response:
            assert response.status_code == 200 and await response.read() == b"hello"
        with pytest.raises(ResponseTooLarge):
            async with http.stream("GET", f"{web.url}/stream?bytes=5000") as response:
                await response.read()
        with pytest.raises(DestinationRefused):
            async with http.stream("GET", f"{web.url}/redirect?to={web.url}/hello"):
                pass
    async with OutboundClient(allow_private=True, timeout=0.2) as http:
        with pytest.raises(OutboundUnavailable):
            async with http.stream("GET", f"{web.url}/hang") as response:
                await response.read()


async def test_the_shared_client_is_one_per_setting_and_kept_until_closed():
    assert outbound.shared_client(allow_private=False) is outbound.shared_client(allow_private=False)
    assert outbound.shared_client(allow_private=True) is not outbound.shared_client(allow_private=False)
    closing = outbound.shared_client(allow_private=True)
    await outbound.close_shared_clients()
    assert outbound.shared_client(allow_private=True) is not closing
    await outbound.close_shared_clients()


@pytest.mark.parametrize("url", ["http://127.0.0.1:{port}/hello", "http://169.254.169.254/latest/meta-data/"])
async def test_the_shared_client_refuses_private_destinations(web, url):
    before = len(web.paths())
    with pytest.raises(DestinationRefused):
        await outbound.shared_client(allow_private=False).request("GET", url.format(port=web.port))
    assert len(web.paths()) == before
    await outbound.close_shared_clients()


async def test_a_kept_alive_shared_client_still_checks_each_redirect(web, public_loopback):
    http = outbound.shared_client(allow_private=False)
    for _ in range(2):  # the connection to the first hop is opened, then reused
        assert (await http.request("GET", f"{web.url}/hello")).body == b"hello"
    for target in (f"http://[::1]:{web.port}/hello", "http://10.255.255.1/"):
        with pytest.raises(DestinationRefused):
            await http.request("GET", f"{web.url}/redirect", params={"to": target})
    assert (await http.request("GET", f"{web.url}/hello")).body == b"hello"  # still usable
    await outbound.close_shared_clients()


async def test_the_shared_client_keeps_no_cookie_between_callers(web):
    """Called by name: a cookie jar would keep a host name's cookie (it drops an IP address's)."""
    http = outbound.shared_client(allow_private=True)
    named = f"http://localhost:{web.port}"
    await http.request("GET", f"{named}/cookie", params={"value": "first-callers-session"})
    seen = (await http.request("GET", f"{named}/headers")).json()
    assert "cookie" not in seen
    await outbound.close_shared_clients()


async def test_a_call_on_the_shared_client_has_its_own_time_cap(web):
    """The shared client's own cap is 30 s: the call's 0.3 s ends it (and not the test's 10 s)."""
    async with asyncio.timeout(10):
        with pytest.raises(OutboundUnavailable):
            await outbound.shared_client(allow_private=True).request("GET", f"{web.url}/hang", timeout=0.3)
    await outbound.close_shared_clients()
