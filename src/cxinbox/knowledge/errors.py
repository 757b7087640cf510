"""What the knowledge base answers when a document cannot be taken or read."""

from __future__ import annotations

from cxinbox.core.errors import Conflict


class DuplicateDocument(Conflict):
    code = "DUPLICATE_DOCUMENT"
    message = "The knowledge base already has this file"


class UnreadableDocument(Exception):
    """Why a document failed to be ingested, in words its uploader can act on (kept as its ``error``)."""
