"""Which kind of document an upload is, told by its bytes (never by its name or declared type).

PDF and the Office formats announce themselves (``%PDF-``; a ZIP holding ``word/document.xml`` or
``xl/workbook.xml``). Anything else must be text (UTF-8, or UTF-16 with its byte-order mark) with no
binary control characters; among text kinds the content decides (table-shaped lines are CSV,
Markdown headings or lists make MD), and the file's extension only breaks a tie.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass

from cxinbox.knowledge.errors import UnreadableDocument


@dataclass(frozen=True)
class DocumentKind:
    name: str  # pdf | docx | xlsx | csv | txt | md
    mime_type: str


PDF = DocumentKind("pdf", "application/pdf")
DOCX = DocumentKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = DocumentKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
CSV = DocumentKind("csv", "text/csv")
TXT = DocumentKind("txt", "text/plain")
MD = DocumentKind("md", "text/markdown")
KINDS = {k.name: k for k in (PDF, DOCX, XLSX, CSV, TXT, MD)}

_MARKDOWN = re.compile(r"^(#{1,6} \S|[-*+] \S|\d+\. \S|```|> \S)|\[[^\]]+\]\([^)]+\)", re.MULTILINE)
#: control characters that never occur in a text file (tab, newlines and form feed do)
_BINARY = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def recognise(data: bytes, filename: str | None) -> DocumentKind | None:
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    text = decode_text(data)
    if text is None:
        return None
    extension = (filename or "").rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if _looks_like_csv(text) and extension not in ("md", "txt"):
        return CSV
    if extension == "md" or (extension != "txt" and _MARKDOWN.search(text[:20000])):
        return MD
    return TXT


def _office(data: bytes) -> DocumentKind | None:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def decode_text(data: bytes) -> str | None:
    """The text of a text file, or None when the bytes are not text."""
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if _BINARY.search(text[:100000]):
        return None
    return text


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text[:20000].splitlines() if line.strip()][:20]
    if len(lines) < 2:
        return False
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|")
    except csv.Error:
        return False
    widths = {len(row) for row in csv.reader(lines, dialect)}
    return len(widths) == 1 and widths.pop() >= 2


def require_text(data: bytes) -> str:
    text = decode_text(data)
    if text is None:
        raise UnreadableDocument("The file is not readable text")
    return text
