"""The Graph client against the fake Graph API: answers, and errors typed with Meta's codes."""

from __future__ import annotations

import uuid

import pytest

from cxinbox.adapters.whatsapp import GraphClient, GraphError
from cxinbox.adapters.whatsapp.client import MAX_MEDIA_BYTES
from cxinbox.config import MetaSettings
from tests.fixtures.whatsapp import unique_number


@pytest.fixture
def number(graph):
    token = f"token-{uuid.uuid4().hex}"
    phone_number_id = unique_number()
    graph.add_number(phone_number_id, token)
    return phone_number_id, token


async def test_send_answers_the_wamid(runtime, graph, number):
    phone_number_id, token = number
    async with GraphClient(runtime.settings.meta, token) as client:
        wamid = await client.send_message(
            phone_number_id, {"to": "15550001111", "type": "text", "text": {"body": "hi"}}
        )
    assert wamid.startswith("wamid.")
    assert graph.state.sent[-1]["messaging_product"] == "whatsapp"
    assert graph.state.sent[-1]["text"] == {"body": "hi"}


@pytest.mark.parametrize("phone_number_id", ["//127.0.0.2:9/x", "../other", "1/../../v1", ""])
async def test_a_send_goes_to_the_graph_base_only(runtime, graph, phone_number_id):
    before = len(graph.state.send_attempts)
    async with GraphClient(runtime.settings.meta, "token") as client:
        with pytest.raises(GraphError) as caught:
            await client.send_message(phone_number_id, {"to": "1", "type": "text", "text": {"body": "x"}})
    assert not caught.value.retryable
    assert len(graph.state.send_attempts) == before


async def test_a_lost_answer_is_unanswered_and_retryable(runtime, graph, number):
    phone_number_id, token = number
    graph.lose_next_answers(phone_number_id, 1)
    async with GraphClient(runtime.settings.meta, token) as client:
        with pytest.raises(GraphError) as caught:
            await client.send_message(phone_number_id, {"to": "1", "type": "text", "text": {"body": "x"}})
    assert caught.value.unanswered and caught.value.retryable and caught.value.status is None


@pytest.mark.parametrize(
    ("status", "code", "subcode", "retryable"),
    [
        (400, 130429, None, True),
        (500, 131000, None, True),
        (503, 2, None, True),
        (400, 131047, None, False),
        (400, 131026, None, False),
        (400, 132001, 2494073, False),
        (400, 100, 33, False),
        (401, 190, 463, False),
    ],
)
async def test_errors_carry_metas_code_and_whether_to_retry(
    runtime, graph, number, status, code, subcode, retryable
):
    phone_number_id, token = number
    graph.fail_next_sends(phone_number_id, (status, code, subcode))
    async with GraphClient(runtime.settings.meta, token) as client:
        with pytest.raises(GraphError) as caught:
            await client.send_message(phone_number_id, {"to": "1", "type": "text", "text": {"body": "x"}})
    error = caught.value
    assert (error.status, error.code, error.subcode, error.retryable) == (status, code, subcode, retryable)
    assert error.fbtrace_id


async def test_an_unreachable_graph_is_retryable():
    meta = MetaSettings(
        graph_url="http://127.0.0.1:9",
        graph_version="v23.0",
        app_id=None,
        app_secret=None,
        verify_token=None,
        allow_private_urls=True,
    )
    async with GraphClient(meta, "token") as client:
        with pytest.raises(GraphError) as caught:
            await client.phone_number("1")
    assert caught.value.retryable and caught.value.status is None


async def test_phone_number_and_media(runtime, graph, number):
    phone_number_id, token = number
    media_id = graph.add_media(token, b"bytes", "audio/ogg")
    async with GraphClient(runtime.settings.meta, token) as client:
        info = await client.phone_number(phone_number_id)
        media = await client.media_info(media_id)
        data = await client.download(media.url)
    assert (info.verified_name, info.quality_rating, info.messaging_limit_tier) == (
        "Acme Support",
        "GREEN",
        "TIER_1K",
    )
    assert (media.mime_type, media.file_size, data) == ("audio/ogg", 5, b"bytes")


@pytest.mark.parametrize(
    "media_id", ["{web}/headers", "//127.0.0.1:{port}/headers", "../123", "123/x", " 123"]
)
async def test_a_media_id_that_is_not_digits_is_refused_before_any_request(runtime, web, number, media_id):
    _, token = number
    before = len(web.paths())
    async with GraphClient(runtime.settings.meta, token) as client:
        with pytest.raises(GraphError) as caught:
            await client.media_info(media_id.format(web=web.url, port=web.port))
    assert not caught.value.retryable
    assert len(web.paths()) == before


@pytest.mark.parametrize(
    "url",
    [
        "{web}/headers",  # any other host, even one the switch lets through
        "http://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1",  # Meta's host, without https
        "https://lookaside.fbsbx.com.attacker.test/x",
        "https://notfbsbx.com/x",
        "https://{web_host}@lookaside.fbsbx.com.attacker.test/x",
    ],
)
async def test_the_token_goes_to_no_host_but_metas(runtime, web, number, url):
    _, token = number
    before = len(web.paths())
    async with GraphClient(runtime.settings.meta, token) as client:
        with pytest.raises(GraphError) as caught:
            await client.download(url.format(web=web.url, web_host=f"127.0.0.1:{web.port}"))
    assert not caught.value.retryable and "not allowed" in caught.value.message
    assert len(web.paths()) == before


async def test_media_over_the_size_cap_is_refused_from_its_declared_size(runtime, graph, number):
    _, token = number
    media_id = graph.add_media(token, b"x", "video/mp4")
    graph.state.media[media_id].declared_size = MAX_MEDIA_BYTES + 1
    async with GraphClient(runtime.settings.meta, token) as client:
        with pytest.raises(GraphError) as caught:
            await client.media_info(media_id)
    assert not caught.value.retryable
