"""Retrieval with an embedding provider: a LOCAL OpenAI-compatible ``/embeddings`` (the fake on
127.0.0.1). Vectors stored with the chunks, hybrid test-rag, a changed model re-indexed by the sweep,
and a provider that is down leaving full-text retrieval working."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from cxinbox.adapters.embeddings import embedder_for
from cxinbox.app import create_app
from cxinbox.config import Settings
from cxinbox.knowledge import vectors
from cxinbox.models.identity import Plan
from cxinbox.runtime import Runtime
from tests.fakes.embeddings import DIMENSIONS, FakeEmbeddings
from tests.fixtures.api import running
from tests.fixtures.runtimes import started_runtime
from tests.fixtures.wait import eventually
from tests.knowledge.documents import RETURNS_ES, SHIPPING_ES, chunks_of, ingested, rag


@pytest.fixture(scope="module")
def embeddings() -> Iterator[FakeEmbeddings]:
    server = FakeEmbeddings()
    server.start()
    yield server
    server.stop()


@dataclass
class Deployment:
    client: httpx.AsyncClient
    runtime: Runtime


@asynccontextmanager
async def deployed(settings: Settings, embeddings: FakeEmbeddings, model: str) -> AsyncIterator[Deployment]:
    """The API configured with the fake provider's ``model``, on the suite's database."""
    configured = settings.model_copy(
        update={
            "embeddings_provider": "LOCAL",
            "embeddings_base_url": embeddings.base_url,
            "embeddings_model": model,
            "embeddings_api_key": "sk-local-test",
        }
    )
    async with started_runtime(configured, redis_url=settings.redis_url) as runtime:  # noqa: SIM117 - the app needs the runtime
        async with running(create_app(configured, runtime=runtime)) as client:
            yield Deployment(client, runtime)


async def _info(deployment: Deployment, headers: dict[str, str]) -> dict:
    r = await deployment.client.get("/bot-config/embedding-info", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_vectors_are_stored_and_fused_with_full_text(settings, embeddings, factory):
    org = await factory.org(plan=Plan.PROFESSIONAL)
    headers = org.admin.headers
    async with deployed(settings, embeddings, "hash-v1") as d:
        shipping = await ingested(d.client, headers, "envios.txt", SHIPPING_ES.encode())
        await ingested(d.client, headers, "devoluciones.txt", RETURNS_ES.encode())
        assert await _info(d, headers) == {
            "provider": "LOCAL",
            "model": "hash-v1",
            "dimensions": DIMENSIONS,
            "documents": 2,
            "chunks": 2,
            "needsReindex": False,
            "documentsToReindex": 0,
        }
        answer = await rag(d.client, headers, "¿En cuánto tiempo me llega el paquete a Ciudad de México?")
        assert answer["mode"] == "hybrid"
        assert answer["results"][0]["documentId"] == shipping["id"]
        assert {call.authorization for call in embeddings.calls} == {"Bearer sk-local-test"}
        assert {call.model for call in embeddings.calls} == {"hash-v1"}


async def test_hybrid_retrieval_keeps_to_its_organization_and_forgets_a_deleted_document(
    settings, embeddings, factory
):
    ours = await factory.org(plan=Plan.PROFESSIONAL)
    theirs = await factory.org(plan=Plan.PROFESSIONAL)
    question = "¿En cuánto tiempo me llega el paquete a Ciudad de México?"
    async with deployed(settings, embeddings, "hash-v1") as d:
        shipping = await ingested(d.client, ours.admin.headers, "envios.txt", SHIPPING_ES.encode())
        returns = await ingested(d.client, theirs.admin.headers, "devoluciones.txt", RETURNS_ES.encode())
        # each organization's vectors are in this process's cache once it has asked
        for org, own in ((ours, shipping), (theirs, returns)):
            answer = await rag(d.client, org.admin.headers, question)
            assert answer["mode"] == "hybrid"
            assert {hit["documentId"] for hit in answer["results"]} == {own["id"]}

        chunk_ids = {c["id"] for c in await chunks_of(d.client, ours.admin.headers, shipping["id"])}
        r = await d.client.delete(f"/bot-config/documents/{shipping['id']}", headers=ours.admin.headers)
        assert r.status_code == 200, r.text
        assert (await rag(d.client, ours.admin.headers, question))["results"] == []
        # the cached matrix itself was reloaded: the vector side no longer offers the deleted chunks
        embedder = embedder_for(d.runtime.settings.embeddings)
        assert embedder is not None
        vector = (await embedder.embed([question]))[0]
        async with d.runtime.sessionmaker() as session:
            assert await vectors.nearest(session, ours.id, embedder.model_id, vector, 10) == []
            left = await vectors.nearest(session, theirs.id, embedder.model_id, vector, 10)
        assert left and not chunk_ids & set(left)

        again = await ingested(d.client, ours.admin.headers, "envios-2.txt", SHIPPING_ES.encode() + b" ")
        answer = await rag(d.client, ours.admin.headers, question)
        assert {hit["documentId"] for hit in answer["results"]} == {again["id"]}


async def test_a_changed_model_marks_documents_and_the_sweep_re_indexes_them(settings, embeddings, factory):
    org = await factory.org(plan=Plan.PROFESSIONAL)
    headers = org.admin.headers
    async with deployed(settings, embeddings, "hash-v1") as d:
        document = await ingested(d.client, headers, "envios.txt", SHIPPING_ES.encode())
    async with deployed(settings, embeddings, "hash-v2") as d:
        info = await _info(d, headers)
        assert (info["model"], info["needsReindex"], info["documentsToReindex"]) == ("hash-v2", True, 1)
        listed = (await d.client.get("/bot-config/documents", headers=headers)).json()["data"]
        assert [doc["needsReindex"] for doc in listed] == [True]
        await d.runtime.jobs.kick("knowledge.sweep")

        async def re_indexed() -> bool:
            return not (await _info(d, headers))["needsReindex"]

        await eventually(re_indexed, "the documents embedded with the new model")
        answer = await rag(d.client, headers, "envío a todo el país")
        assert answer["mode"] == "hybrid" and answer["results"][0]["documentId"] == document["id"]


async def test_a_provider_that_is_down_leaves_full_text_working(settings, embeddings, factory):
    org = await factory.org(plan=Plan.PROFESSIONAL)
    headers = org.admin.headers
    embeddings.failing_status = 503
    try:
        async with deployed(settings, embeddings, "hash-v1") as d:
            document = await ingested(d.client, headers, "devoluciones.txt", RETURNS_ES.encode())
            info = await _info(d, headers)
            assert (info["chunks"], info["dimensions"], info["needsReindex"]) == (1, None, True)
            answer = await rag(d.client, headers, "reembolso de una devolución")
            assert answer["mode"] == "fulltext" and answer["results"][0]["documentId"] == document["id"]
    finally:
        embeddings.failing_status = None
