"""A campaign's recipients from an uploaded CSV file: one row per recipient, ``phone`` first, then
optionally ``name`` and the recipient's own body values (``value1``, ``value2``, … in order).

A first row whose phone cell has no digit is a header and is skipped. The rows become the API's
``recipients`` as they stand; numbers are normalised, de-duplicated and checked by the campaign's
creation, which reports the invalid ones.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from starlette.datastructures import UploadFile

#: the largest file read (100,000 recipients with a name and a few values fit)
MAX_BYTES = 8 * 1024 * 1024


class CsvRefused(Exception):
    """The file is not a CSV of recipients (empty, too large, not UTF-8)."""


async def recipients_from(upload: object) -> list[dict[str, Any]]:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise CsvRefused("no file")
    data = await upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise CsvRefused("too large")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvRefused("not UTF-8") from exc
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if rows and not any(c.isdigit() for c in rows[0][0]):
        rows = rows[1:]
    if not rows:
        raise CsvRefused("no rows")
    return [_recipient(row) for row in rows]


def _recipient(row: list[str]) -> dict[str, Any]:
    cells = [cell.strip() for cell in row]
    recipient: dict[str, Any] = {"phone": cells[0]}
    if len(cells) > 1 and cells[1]:
        recipient["name"] = cells[1]
    values = [cell for cell in cells[2:] if cell]
    if values:
        recipient["variables"] = {"body": values}
    return recipient
