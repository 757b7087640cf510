"""Documents the tests build themselves: one of each kind the knowledge base reads, and hostile ones."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import docx
import openpyxl
from fpdf import FPDF

from tests.fixtures.wait import eventually

SHIPPING_ES = (
    "Los pedidos dentro de la Ciudad de México llegan en un plazo de 24 a 48 horas hábiles. "
    "Para el resto del país el envío tarda entre 3 y 5 días hábiles."
)
RETURNS_ES = (
    "Puedes devolver cualquier producto sin usar dentro de los 30 días naturales posteriores a la "
    "compra. El reembolso se acredita en tu tarjeta en un máximo de 10 días."
)


def pdf(pages: list[str], *, password: str | None = None) -> bytes:
    document = FPDF()
    document.set_font("helvetica", size=11)
    for text in pages:
        document.add_page()
        document.multi_cell(0, 6, text)
    if password is not None:
        document.set_encryption(owner_password="owner-" + password, user_password=password)
    return bytes(document.output())


def word(sections: list[tuple[str, str]], table: list[list[str]] | None = None) -> bytes:
    document = docx.Document()
    document.add_heading("Centro de ayuda", level=1)
    for heading, text in sections:
        document.add_heading(heading, level=2)
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb_docx(uncompressed_mb: int = 100) -> bytes:
    """A DOCX whose document part inflates to ``uncompressed_mb`` MB of spaces (a few hundred KB packed)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with package.open("word/document.xml", "w", force_zip64=True) as part:
            block = b" " * (1024 * 1024)
            for _ in range(uncompressed_mb):
                part.write(block)
    return out.getvalue()


_XML = '<?xml version="1.0"?>'
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RELATIONSHIPS = "application/vnd.openxmlformats-package.relationships+xml"


def _relationship(kind: str, target: str) -> str:
    return (
        f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
        f'<Relationship Id="rId1" Type="{_OFFICE}/{kind}" Target="{target}"/></Relationships>'
    )


def million_row_sheet(*, declared: bool) -> bytes:
    """An XLSX of 1,000,000 rows, its sheet written directly (building it cell by cell takes minutes);
    ``declared``: the sheet says its size, as spreadsheet programs write it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            "[Content_Types].xml",
            f'{_XML}<Types xmlns="{_PACKAGE}/content-types">'
            f'<Default Extension="rels" ContentType="{_RELATIONSHIPS}"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_SPREADSHEET}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SPREADSHEET}.worksheet+xml"/>'
            "</Types>",
        )
        package.writestr("_rels/.rels", _relationship("officeDocument", "xl/workbook.xml"))
        package.writestr(
            "xl/workbook.xml",
            f'{_XML}<workbook xmlns="{_SHEET_NS}" xmlns:r="{_OFFICE}">'
            '<sheets><sheet name="Datos" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        package.writestr("xl/_rels/workbook.xml.rels", _relationship("worksheet", "worksheets/sheet1.xml"))
        with package.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'{_XML}<worksheet xmlns="{_SHEET_NS}">'.encode())
            if declared:
                sheet.write(b'<dimension ref="A1:A1000000"/>')
            sheet.write(b"<sheetData>")
            batch = b"<row><c><v>1</v></c></row>" * 10_000
            for _ in range(100):
                sheet.write(batch)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


async def upload(client, headers, filename: str, data: bytes, **form: str):
    return await client.post(
        "/bot-config/documents",
        files={"file": (filename, data, "application/octet-stream")},
        data=form,
        headers=headers,
    )


async def uploaded(client, headers, filename: str, data: bytes, **form: str) -> dict[str, Any]:
    r = await upload(client, headers, filename, data, **form)
    assert r.status_code == 201, r.text
    return r.json()["data"]


async def settled(client, headers, document_id: str) -> dict[str, Any]:
    """The document's status once ingestion has ended (READY or FAILED)."""
    seen: dict[str, Any] = {}

    async def done() -> bool:
        r = await client.get(f"/bot-config/documents/{document_id}/status", headers=headers)
        seen.update(r.json()["data"])
        return seen["status"] in ("READY", "FAILED")

    await eventually(done, f"document {document_id} READY or FAILED")
    return seen


async def ingested(client, headers, filename: str, data: bytes, **form: str) -> dict[str, Any]:
    document = await uploaded(client, headers, filename, data, **form)
    status = await settled(client, headers, document["id"])
    assert status["status"] == "READY", status
    return document


async def chunks_of(client, headers, document_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/bot-config/documents/{document_id}/chunks?limit=100", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def rag(client, headers, query: str, top_k: int = 5) -> dict[str, Any]:
    r = await client.post("/bot-config/test-rag", json={"query": query, "topK": top_k}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]
