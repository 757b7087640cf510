"""``python -m bench.retrieval``: retrieval quality on the evaluation set (recall@5 and MRR, full-text
alone and hybrid with the deterministic local embedding), retrieval latency at 20,000 chunks in one
organization, and the ingestion rate of a 200-page PDF. Uses the product's own extraction, chunking,
indexing and ``retrieve``; a database of its own."""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from fpdf import FPDF
from sqlalchemy import insert
from tests.fakes.embeddings import local_embedding

from bench.retrieval.dataset import ARTICLES, QUESTIONS
from cxinbox.adapters.embeddings import Embedder, normalised
from cxinbox.config import EmbeddingsSettings
from cxinbox.core.db import create_engine, create_sessionmaker, unit_of_work
from cxinbox.core.tenancy import TenantContext
from cxinbox.knowledge import vectors
from cxinbox.knowledge.chunking import chunk_blocks
from cxinbox.knowledge.extract import extract
from cxinbox.knowledge.formats import KINDS
from cxinbox.knowledge.repository import chunks_changed
from cxinbox.knowledge.retrieval import retrieve
from cxinbox.knowledge.text import index_terms, language_of
from cxinbox.migrations import upgrade
from cxinbox.models.identity import Organization
from cxinbox.models.knowledge import DocumentStatus, KnowledgeChunk, KnowledgeDocument

MODEL = "LOCAL:hashing-256"
TOP_K = 5


class LocalStandIn(Embedder):
    """The deterministic local embedding of the tests' fake provider, without the HTTP hop."""

    def __init__(self) -> None:
        super().__init__(EmbeddingsSettings("LOCAL", "hashing-256", None, "http://127.0.0.1", True))

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return normalised([local_embedding(t) for t in texts])


@dataclass(frozen=True)
class Quality:
    recall_at_5: float
    mrr: float


async def _organization(sessionmaker) -> str:
    async with unit_of_work(sessionmaker) as session:
        org = Organization(name="Lumen Hogar", slug=f"lumen-{uuid.uuid4().hex[:8]}")
        session.add(org)
        await session.flush()
        return org.id


async def _store(sessionmaker, organization_id: str, texts: dict[str, str], embed: bool) -> dict[str, str]:
    """One document per text, its chunks indexed (and embedded); answers chunk id -> text key."""
    owner: dict[str, str] = {}
    async with unit_of_work(sessionmaker) as session:
        rows = []
        for key, markdown in texts.items():
            document = _document(organization_id, f"{key}.md", "md", markdown.encode(), embed)
            session.add(document)
            for row in _chunk_rows(document, markdown.encode(), embed):
                owner[row["id"]] = key
                rows.append(row)
        await session.flush()
        await _insert(session, rows)
        await chunks_changed(session, organization_id)
    return owner


def _document(organization_id: str, filename: str, kind: str, data: bytes, embed: bool) -> KnowledgeDocument:
    return KnowledgeDocument(
        id=str(uuid.uuid4()),
        organization_id=organization_id,
        filename=filename,
        kind=kind,
        mime_type=KINDS[kind].mime_type,
        size=len(data),
        sha256=uuid.uuid4().hex,
        storage_key="",
        status=DocumentStatus.READY,
        embedding_model=MODEL if embed else None,
    )


def _chunk_rows(document: KnowledgeDocument, data: bytes, embed: bool) -> list[dict[str, Any]]:
    """What ingestion stores for a document: its blocks read and chunked, each chunk stemmed in the
    document's language (and embedded)."""
    chunks = chunk_blocks(extract(document.kind, data))
    language = language_of(" ".join(c.content for c in chunks[:20]))
    matrix = normalised([local_embedding(c.content) for c in chunks]) if embed else None
    return [
        {
            "id": str(uuid.uuid4()),
            "organization_id": document.organization_id,
            "document_id": document.id,
            "index": index,
            "content": chunk.content,
            "token_count": chunk.token_count,
            "page": chunk.page,
            "heading": chunk.heading,
            "search_text": index_terms(chunk.content, language),
            "embedding": None if matrix is None else vectors.to_bytes(matrix[index]),
            "embedding_model": MODEL if embed else None,
        }
        for index, chunk in enumerate(chunks)
    ]


async def _insert(session, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), 1000):
        await session.execute(insert(KnowledgeChunk), rows[start : start + 1000])


def _articles() -> dict[str, str]:
    return {key: f"# {title}\n\n{text}\n" for key, (title, text) in ARTICLES.items()}


async def _quality(
    sessionmaker, tenant: TenantContext, owner: dict[str, str], embedder: Embedder | None
) -> Quality:
    found, reciprocal = 0, 0.0
    async with sessionmaker() as session:
        for question, answer in QUESTIONS:
            hits = (await retrieve(session, tenant, embedder, question, 10)).hits
            keys = [owner.get(h.chunk_id) for h in hits]
            if answer in keys[:TOP_K]:
                found += 1
            if answer in keys:
                reciprocal += 1 / (keys.index(answer) + 1)
    return Quality(found / len(QUESTIONS), reciprocal / len(QUESTIONS))


def _filler(count: int, seed: int = 7) -> dict[str, str]:
    """``count`` sections of 40-120 words: one in five from the evaluation set's own vocabulary (so
    questions keep matching them), the rest from 30,000 made-up words (other topics)."""
    rng = random.Random(seed)
    vocabulary = " ".join(text for _title, text in ARTICLES.values()).split()
    letters = "abcdefghijlmnoprstuv"
    other = ["".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(30_000)]

    def word() -> str:
        return rng.choice(vocabulary) if rng.random() < 0.2 else rng.choice(other)

    return {
        f"filler-{n}": f"# Sección {n}\n\n" + " ".join(word() for _ in range(rng.randint(40, 120)))
        for n in range(count)
    }


async def _latency(
    sessionmaker, tenant: TenantContext, embedder: Embedder | None, rounds: int
) -> tuple[float, float]:
    timings = []
    async with sessionmaker() as session:
        await retrieve(session, tenant, embedder, "calentamiento", TOP_K)  # loads the vector matrix once
        for n in range(rounds):
            question = QUESTIONS[n % len(QUESTIONS)][0]
            started = time.perf_counter()
            await retrieve(session, tenant, embedder, question, TOP_K)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def _manual(pages: int, seed: int = 11) -> bytes:
    """A ``pages``-page PDF manual: each page a heading and about 350 words of the articles' text."""
    rng = random.Random(seed)
    sentences = [s.strip() + "." for _title, text in ARTICLES.values() for s in text.split(".") if s.strip()]
    document = FPDF()
    document.set_font("helvetica", size=10)
    for page in range(1, pages + 1):
        document.add_page()
        text = ""
        while len(text.split()) < 350:
            text += " " + rng.choice(sentences)
        page_text = f"Capitulo {page}\n{text.strip()}"
        document.multi_cell(0, 5, page_text.encode("latin-1", "replace").decode("latin-1"))
    return bytes(document.output())


async def _ingestion(
    sessionmaker, organization_id: str, pages: int, rounds: int = 3
) -> list[tuple[float, float, int]]:
    """Each round: the PDF read, chunked and stemmed (what the job does off the event loop), then its
    chunks stored; answers (reading seconds, storing seconds, chunks) per round."""
    data = _manual(pages)
    timings = []
    for _ in range(rounds):
        document = _document(organization_id, "manual.pdf", "pdf", data, embed=False)
        started = time.perf_counter()
        rows = _chunk_rows(document, data, embed=False)
        read = time.perf_counter() - started
        async with unit_of_work(sessionmaker) as session:
            session.add(document)
            await session.flush()
            await _insert(session, rows)
            await chunks_changed(session, organization_id)
        timings.append((read, time.perf_counter() - started - read, len(rows)))
    return timings


async def run(database_url: str, chunks: int, rounds: int, pages: int) -> None:
    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url)
    sessionmaker = create_sessionmaker(engine)
    try:
        stand_in = LocalStandIn()
        org = await _organization(sessionmaker)
        owner = await _store(sessionmaker, org, _articles(), embed=True)
        tenant = TenantContext.system(org)
        fulltext = await _quality(sessionmaker, tenant, owner, None)
        hybrid = await _quality(sessionmaker, tenant, owner, stand_in)
        print(f"Evaluation set: {len(ARTICLES)} articles ({len(owner)} chunks), {len(QUESTIONS)} questions")
        print("| retrieval | recall@5 | MRR |\n|---|---:|---:|")
        print(f"| full-text | {fulltext.recall_at_5:.3f} | {fulltext.mrr:.3f} |")
        print(f"| hybrid (local stand-in) | {hybrid.recall_at_5:.3f} | {hybrid.mrr:.3f} |")

        big = await _organization(sessionmaker)
        started = time.perf_counter()
        texts = {**_articles(), **_filler(chunks - len(ARTICLES))}
        stored = await _store(sessionmaker, big, texts, embed=True)
        print(f"\n{len(stored)} chunks in one organization (stored in {time.perf_counter() - started:.0f} s)")
        print("| retrieval | p50 ms | p95 ms |\n|---|---:|---:|")
        tenant = TenantContext.system(big)
        for name, embedder in (("full-text", None), ("hybrid (local stand-in)", stand_in)):
            p50, p95 = await _latency(sessionmaker, tenant, embedder, rounds)
            print(f"| {name} | {p50:.1f} | {p95:.1f} |")

        print(f"\nIngestion of a {pages}-page PDF (full-text; no embedding provider)")
        print("| round | read + chunk + stem s | store s | chunks | pages/s |\n|---|---:|---:|---:|---:|")
        for n, (read, store, count) in enumerate(await _ingestion(sessionmaker, big, pages), start=1):
            print(f"| {n} | {read:.2f} | {store:.2f} | {count} | {pages / (read + store):.1f} |")
        print(f"\n{engine.dialect.name}, {platform.python_version()}, {platform.machine()}")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.retrieval", description=__doc__)
    parser.add_argument("--database-url", help="a database of its own (default: a temporary SQLite file)")
    parser.add_argument("--chunks", type=int, default=20_000, help="chunks in the latency organization")
    parser.add_argument("--rounds", type=int, default=300, help="questions timed per retrieval mode")
    parser.add_argument("--pages", type=int, default=200, help="pages of the PDF whose ingestion is timed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite+aiosqlite:///{directory}/bench-retrieval.db"
        asyncio.run(run(url, args.chunks, args.rounds, args.pages))


if __name__ == "__main__":
    main()
