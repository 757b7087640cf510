"""/bot-config/documents*, test-rag and embedding-info without an embedding provider (full-text):
each file kind built here, READY, its chunks, a paraphrased question found, deletion, hostile files,
duplicates, the plan limit, roles and other organizations."""

from __future__ import annotations

import csv
import io

import pytest

from cxinbox.models.identity import Plan, Role
from tests.fixtures.audit import audit_entries
from tests.fixtures.errors import bad_fields, error_of
from tests.fixtures.people import events_of
from tests.knowledge.documents import (
    RETURNS_ES,
    SHIPPING_ES,
    chunks_of,
    ingested,
    million_row_sheet,
    pdf,
    rag,
    settled,
    upload,
    uploaded,
    word,
    workbook,
    zip_bomb_docx,
)


@pytest.fixture
async def org(factory):
    return await factory.org(plan=Plan.PROFESSIONAL)


async def test_a_pdf_is_read_page_by_page_and_found_by_a_paraphrased_question(client, org, runtime):
    headers = org.admin.headers
    document = await ingested(
        client,
        headers,
        "ayuda.pdf",
        pdf(["Bienvenido a Tienda Lumen.", SHIPPING_ES, RETURNS_ES]),
        title="Ayuda",
    )
    assert (document["mimeType"], document["status"], document["title"]) == (
        "application/pdf",
        "PENDING",
        "Ayuda",
    )
    chunks = await chunks_of(client, headers, document["id"])
    assert [c["page"] for c in chunks] == [1, 2, 3]
    assert "30 días naturales" in chunks[2]["content"] and chunks[2]["tokenCount"] > 10
    answer = await rag(client, headers, "¿cuántos días tengo para regresar un artículo que compré?")
    assert answer["mode"] == "fulltext" and answer["latencyMs"] >= 0
    best = answer["results"][0]
    assert (best["chunkId"], best["documentName"], best["page"]) == (chunks[2]["id"], "Ayuda", 3)
    assert best["documentId"] == document["id"] and best["score"] > 0
    updates = await events_of(runtime, org.id, "document.updated")
    assert [e["status"] for e in updates if e["id"] == document["id"]][-1] == "READY"
    assert [e.target_id for e in await audit_entries(runtime, org.id, "knowledge_document.created")] == [
        document["id"]
    ]


async def test_a_word_document_keeps_its_headings_and_table_rows(client, org):
    headers = org.admin.headers
    data = word(
        [("Envíos", SHIPPING_ES), ("Devoluciones", RETURNS_ES)],
        table=[["Plan", "Precio mensual"], ["Básico", "199 MXN"], ["Premium", "499 MXN"]],
    )
    document = await ingested(client, headers, "ayuda.docx", data)
    chunks = await chunks_of(client, headers, document["id"])
    headings = [c["heading"] for c in chunks]
    assert headings[:2] == ["Centro de ayuda > Envíos", "Centro de ayuda > Devoluciones"]
    assert chunks[0]["content"].startswith("Centro de ayuda > Envíos\n")
    assert "Plan: Premium; Precio mensual: 499 MXN" in chunks[-1]["content"]
    answer = await rag(client, headers, "precio mensual del plan premium")
    assert answer["results"][0]["chunkId"] == chunks[-1]["id"]


async def test_a_workbook_becomes_rows_under_their_sheet(client, org):
    headers = org.admin.headers
    data = workbook(
        {
            "Sucursales": [
                ["Ciudad", "Dirección", "Horario"],
                ["Monterrey", "Av. Constitución 100", "9 a 18 h"],
            ],
            "Garantías": [["Producto", "Garantía"], ["Lámpara Aurora", "2 años"]],
        }
    )
    document = await ingested(client, headers, "datos.xlsx", data)
    chunks = await chunks_of(client, headers, document["id"])
    assert [c["heading"] for c in chunks] == ["Sucursales", "Garantías"]
    assert "Ciudad: Monterrey; Dirección: Av. Constitución 100; Horario: 9 a 18 h" in chunks[0]["content"]
    answer = await rag(client, headers, "¿cuánto dura la garantía de la lámpara aurora?")
    assert answer["results"][0]["chunkId"] == chunks[1]["id"]


async def test_csv_text_and_markdown_are_told_apart_by_their_content(client, org):
    headers = org.admin.headers
    rows = io.StringIO()
    csv.writer(rows).writerows(
        [["pregunta", "respuesta"], ["¿Aceptan PayPal?", "Sí, aceptamos PayPal y tarjetas."]]
    )
    document = await ingested(client, headers, "faq", rows.getvalue().encode())
    assert document["mimeType"] == "text/csv"
    assert "pregunta: ¿Aceptan PayPal?" in (await chunks_of(client, headers, document["id"]))[0]["content"]
    markdown = "# Cuenta\n\n## Contraseña\n\nPara cambiar tu contraseña abre Ajustes y elige Seguridad.\n"
    document = await ingested(client, headers, "cuenta.txt.bin", markdown.encode())
    assert document["mimeType"] == "text/markdown"
    assert (await chunks_of(client, headers, document["id"]))[0]["heading"] == "Cuenta > Contraseña"
    document = await ingested(
        client, headers, "notes.txt", b"Our support line answers from 8 am to 8 pm, Monday to Saturday."
    )
    assert document["mimeType"] == "text/plain"
    answer = await rag(client, headers, "what hours is customer support open?")
    assert answer["results"][0]["documentId"] == document["id"]


async def test_deleting_a_document_removes_its_chunks_from_search(client, org, runtime):
    headers = org.admin.headers
    document = await ingested(client, headers, "envios.txt", SHIPPING_ES.encode())
    assert (await rag(client, headers, "tiempo de envío a Monterrey"))["results"]
    r = await client.delete(f"/bot-config/documents/{document['id']}", headers=headers)
    assert r.status_code == 200 and r.json()["data"] == {"id": document["id"], "deleted": True}
    assert (await rag(client, headers, "tiempo de envío a Monterrey"))["results"] == []
    error_of(
        await client.get(f"/bot-config/documents/{document['id']}/chunks", headers=headers), 404, "NOT_FOUND"
    )
    assert await events_of(runtime, org.id, "document.deleted") == [{"id": document["id"]}]
    again = await ingested(client, headers, "envios.txt", SHIPPING_ES.encode())  # no longer a duplicate
    assert (await rag(client, headers, "tiempo de envío"))["results"][0]["documentId"] == again["id"]


async def test_the_same_file_twice_is_a_conflict(client, org):
    data = RETURNS_ES.encode()
    await uploaded(client, org.admin.headers, "a.txt", data)
    error_of(await upload(client, org.admin.headers, "b.txt", data), 409, "DUPLICATE_DOCUMENT")


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: pdf(["Secreto"], password="clave"), "password-protected"),
        (zip_bomb_docx, "ZIP bomb"),
        (lambda: million_row_sheet(declared=True), "more than 20,000 rows"),
        (lambda: million_row_sheet(declared=False), "does not declare its size"),
        (lambda: b"id,valor\n" + b"1,2\n" * 1_000_000, "more than 20,000 rows"),
        (lambda: b"%PDF-1.7\n" + b"\x00garbage" * 100, "damaged"),
    ],
    ids=[
        "encrypted-pdf",
        "zip-bomb-docx",
        "million-row-xlsx",
        "million-row-xlsx-undeclared",
        "million-row-csv",
        "broken-pdf",
    ],
)
async def test_hostile_files_fail_with_their_reason(client, org, build, reason):
    headers = org.admin.headers
    document = await uploaded(client, headers, "hostile", build())
    status = await settled(client, headers, document["id"])
    assert status["status"] == "FAILED" and reason in status["error"], status
    assert status["chunkCount"] == 0
    listed = (await client.get("/bot-config/documents", headers=headers)).json()["data"]
    assert [d["error"] for d in listed if d["id"] == document["id"]] == [status["error"]]


async def test_what_is_not_a_document_is_refused(client, org):
    headers = org.admin.headers
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    error_of(await upload(client, headers, "image.pdf", png), 415, "UNSUPPORTED_MEDIA_TYPE")
    error_of(await upload(client, headers, "binary.txt", b"text\x00with nul"), 415, "UNSUPPORTED_MEDIA_TYPE")
    error_of(
        await upload(client, headers, "big.txt", b"a " * (10 * 1024 * 1024 + 1)), 413, "PAYLOAD_TOO_LARGE"
    )
    r = await client.post("/bot-config/documents", headers=headers, data={"title": "no file"})
    assert "file" in bad_fields(r)
    assert "query" in bad_fields(await client.post("/bot-config/test-rag", json={}, headers=headers))
    assert "query" in bad_fields(
        await client.post("/bot-config/test-rag", json={"query": "  "}, headers=headers)
    )
    assert "topK" in bad_fields(
        await client.post("/bot-config/test-rag", json={"query": "hola", "topK": 0}, headers=headers)
    )
    assert "limit" in bad_fields(await client.get("/bot-config/documents/x/chunks?limit=0", headers=headers))


async def test_the_plan_limit_counts_documents_and_shows_in_usage(client, factory):
    org = await factory.org(plan=Plan.FREE)
    for n in range(10):
        await uploaded(client, org.admin.headers, f"{n}.txt", f"Documento número {n}".encode())
    error = error_of(await upload(client, org.admin.headers, "11.txt", b"uno mas"), 402, "PLAN_LIMIT_REACHED")
    assert error["details"]["limit"] == "knowledgeDocuments"
    usage = (await client.get("/plan/usage", headers=org.admin.headers)).json()["data"]
    assert usage["limits"]["knowledgeDocuments"] == {"used": 10, "limit": 10, "remaining": 0}


async def test_roles_tokens_and_other_organizations(client, factory, org):
    document = await ingested(client, org.admin.headers, "a.txt", SHIPPING_ES.encode())
    supervisor = await factory.member(org.id, Role.SUPERVISOR)
    agent = await factory.member(org.id, Role.AGENT)
    doc = f"/bot-config/documents/{document['id']}"
    reads = ["/bot-config/documents", f"{doc}/status", f"{doc}/chunks", "/bot-config/embedding-info"]
    for path in reads:
        assert (await client.get(path, headers=supervisor.headers)).status_code == 200, path
        error_of(await client.get(path, headers=agent.headers), 403, "FORBIDDEN")
        error_of(await client.get(path), 401, "UNAUTHORIZED")
    error_of(await upload(client, supervisor.headers, "b.txt", b"otro"), 403, "FORBIDDEN")
    error_of(await client.delete(doc, headers=supervisor.headers), 403, "FORBIDDEN")
    body = {"query": "envío"}
    error_of(
        await client.post("/bot-config/test-rag", json=body, headers=supervisor.headers), 403, "FORBIDDEN"
    )
    error_of(await client.post("/bot-config/test-rag", json=body), 401, "UNAUTHORIZED")
    error_of(await upload(client, {}, "b.txt", b"otro"), 401, "UNAUTHORIZED")

    other = await factory.org(plan=Plan.PROFESSIONAL)
    for path in (f"{doc}/status", f"{doc}/chunks"):
        error_of(await client.get(path, headers=other.admin.headers), 404, "NOT_FOUND")
    error_of(await client.delete(doc, headers=other.admin.headers), 404, "NOT_FOUND")
    assert (await client.get("/bot-config/documents", headers=other.admin.headers)).json()["data"] == []
    assert (await rag(client, other.admin.headers, "envío pedidos días hábiles"))["results"] == []
    await uploaded(client, other.admin.headers, "a.txt", SHIPPING_ES.encode())  # its own copy is no duplicate
    info = (await client.get("/bot-config/embedding-info", headers=org.admin.headers)).json()["data"]
    assert info == {
        "provider": None,
        "model": None,
        "dimensions": None,
        "documents": 1,
        "chunks": 1,
        "needsReindex": False,
        "documentsToReindex": 0,
    }
