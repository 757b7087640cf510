"""A document's text as blocks that keep its structure: headings, paragraphs with their page, table
and sheet rows with their column names. Blocking (run it in a thread).

Every reader is capped, so a hostile file fails with a reason instead of exhausting the worker: the
pages of a PDF, the rows of a sheet or CSV, the characters of text, and for Office files (ZIP
containers) the number of parts and their declared uncompressed size, checked before anything is
decompressed (Python's ``zipfile`` never inflates a part past its declared size, so a zip bomb is
refused by its directory).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cxinbox.knowledge.errors import UnreadableDocument
from cxinbox.knowledge.formats import require_text

MAX_PAGES = 1000
MAX_ROWS = 20_000
MAX_CHARS = 5_000_000
MAX_ZIP_PARTS = 5_000
MAX_UNCOMPRESSED_BYTES = 60 * 1024 * 1024
#: a worksheet that does not declare its size (``<dimension>``) is scanned whole by openpyxl first
MAX_UNDECLARED_SHEET_BYTES = 4 * 1024 * 1024
#: text of one row, past which the rest of its cells is left out
MAX_ROW_CHARS = 2_000


@dataclass(frozen=True)
class Block:
    text: str
    #: ``heading`` (with ``level``), ``text`` or ``row``
    kind: str = "text"
    level: int = 0
    page: int | None = None


class _Budget:
    """Counts what a reader produced and stops it at the caps."""

    def __init__(self) -> None:
        self.chars = 0
        self.rows = 0

    def text(self, block: Block) -> Block:
        self.chars += len(block.text)
        if self.chars > MAX_CHARS:
            raise UnreadableDocument(f"The document has more than {MAX_CHARS:,} characters of text")
        if block.kind == "row":
            self.rows += 1
            if self.rows > MAX_ROWS:
                raise UnreadableDocument(f"The document has more than {MAX_ROWS:,} rows")
        return block


def extract(kind: str, data: bytes) -> list[Block]:
    budget = _Budget()
    return [budget.text(block) for block in _READERS[kind](data) if block.text.strip()]


# ---- PDF ---------------------------------------------------------------------------------------


def _pdf(data: bytes) -> Iterator[Block]:
    import pypdfium2 as pdfium  # a native library: loaded only by the worker that reads a PDF

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise UnreadableDocument("The PDF is password-protected") from exc
        raise UnreadableDocument("The PDF is damaged or not a PDF") from exc
    try:
        if len(pdf) > MAX_PAGES:
            raise UnreadableDocument(f"The PDF has more than {MAX_PAGES:,} pages")
        for number in range(len(pdf)):
            page = pdf[number]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
                page.close()
            for paragraph in _paragraphs(text):
                yield Block(paragraph, page=number + 1)
    finally:
        pdf.close()


# ---- Office ------------------------------------------------------------------------------------


def _checked_zip(data: bytes) -> zipfile.ZipFile:
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        parts = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise UnreadableDocument("The file is damaged (not a readable ZIP container)") from exc
    if len(parts) > MAX_ZIP_PARTS:
        raise UnreadableDocument("The file has too many parts")
    if sum(part.file_size for part in parts) > MAX_UNCOMPRESSED_BYTES:
        raise UnreadableDocument(
            f"The file unpacks to more than {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB (a ZIP bomb?)"
        )
    return package


_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]*\d*:?[A-Z]*(\d+)\"")


def _checked_sheets(package: zipfile.ZipFile) -> None:
    """Refuse, before openpyxl reads them, sheets that declare more than ``MAX_ROWS`` rows, and
    sheets that declare nothing past ``MAX_UNDECLARED_SHEET_BYTES`` (openpyxl would scan them whole
    to learn their size)."""
    for part in package.infolist():
        if not part.filename.startswith("xl/worksheets/") or not part.filename.endswith(".xml"):
            continue
        with package.open(part) as stream:
            head = stream.read(4096)
        declared = _DIMENSION.search(head)
        if declared is not None and int(declared.group(1)) > MAX_ROWS + 1:
            raise UnreadableDocument(f"The document has more than {MAX_ROWS:,} rows")
        if declared is None and part.file_size > MAX_UNDECLARED_SHEET_BYTES:
            limit = MAX_UNDECLARED_SHEET_BYTES // (1024 * 1024)
            raise UnreadableDocument(f"A sheet is larger than {limit} MB and does not declare its size")


def _docx(data: bytes) -> Iterator[Block]:
    _checked_zip(data)
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds for a damaged package
        raise UnreadableDocument("The Word document is damaged") from exc
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            yield from _table_rows([[cell.text for cell in row.cells] for row in item.rows])
            continue
        text = item.text.strip()
        level = _heading_level(item.style.name if item.style is not None else "")
        yield Block(text, kind="heading", level=level) if level else Block(text)


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style)
    return int(match.group(1)) if match else 0


def _xlsx(data: bytes) -> Iterator[Block]:
    _checked_sheets(_checked_zip(data))
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise UnreadableDocument("The workbook is damaged") from exc
    try:
        for sheet in workbook.worksheets:
            yield Block(sheet.title, kind="heading", level=1)
            rows = (["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True))
            yield from _table_rows(rows)
    finally:
        workbook.close()


# ---- text --------------------------------------------------------------------------------------


def _csv(data: bytes) -> Iterator[Block]:
    text = require_text(data)
    sample = text[:20000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    csv.field_size_limit(MAX_ROW_CHARS * 10)
    try:
        yield from _table_rows(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise UnreadableDocument(f"The CSV is malformed: {exc}") from exc


def _markdown(data: bytes) -> Iterator[Block]:
    text = require_text(data)
    paragraph: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        heading = None if fenced else re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
        if heading or not line.strip():
            if paragraph:
                yield Block("\n".join(paragraph))
                paragraph = []
            if heading:
                yield Block(heading.group(2), kind="heading", level=len(heading.group(1)))
            continue
        paragraph.append(line.rstrip())
    if paragraph:
        yield Block("\n".join(paragraph))


def _plain(data: bytes) -> Iterator[Block]:
    for paragraph in _paragraphs(require_text(data)):
        yield Block(paragraph)


# ---- shared ------------------------------------------------------------------------------------


def _paragraphs(text: str) -> Iterator[str]:
    """Paragraphs split at blank lines, each one's wrapped lines joined."""
    for part in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        joined = " ".join(line.strip() for line in part.splitlines() if line.strip())
        if joined:
            yield joined


def _table_rows(rows: Iterable[list[str]]) -> Iterator[Block]:
    """Each row as ``column: value; …`` under the first non-empty row's names."""
    header: list[str] | None = None
    for raw in rows:
        cells = [" ".join(str(c).split()) for c in raw]
        if not any(cells):
            continue
        if header is None:
            header = cells
            yield Block(" | ".join(c for c in cells if c), kind="row")
            continue
        pairs = [
            f"{name}: {value}" if name else value for name, value in zip(header, cells, strict=False) if value
        ]
        pairs.extend(value for value in cells[len(header) :] if value)
        yield Block("; ".join(pairs)[:MAX_ROW_CHARS], kind="row")


_READERS: dict[str, Callable[[bytes], Iterator[Block]]] = {
    "pdf": _pdf,
    "docx": _docx,
    "xlsx": _xlsx,
    "csv": _csv,
    "md": _markdown,
    "txt": _plain,
}
