"""Blocks into chunks that follow the document's structure.

A chunk never spans two sections (a heading starts a new one) nor two pages; within a section it
gathers paragraphs, or table rows, up to ``TARGET_TOKENS``. A paragraph longer than ``MAX_TOKENS``
is cut at sentence ends (at word boundaries when a sentence alone is too long). Each chunk starts
with its section's headings, so a chunk read alone (by the bot, or the index) says what it is about.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from cxinbox.knowledge.extract import Block
from cxinbox.knowledge.text import token_count

TARGET_TOKENS = 180
MAX_TOKENS = 350
MAX_HEADING_CHARS = 500
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Chunk:
    content: str
    heading: str | None
    page: int | None
    token_count: int


@dataclass
class _Open:
    heading: str | None
    page: int | None
    parts: list[str] = field(default_factory=list)
    tokens: int = 0
    rows: bool = False


def chunk_blocks(blocks: list[Block]) -> list[Chunk]:
    return list(_chunks(blocks))


def _chunks(blocks: list[Block]) -> Iterator[Chunk]:
    headings: list[tuple[int, str]] = []
    current: _Open | None = None
    for block in blocks:
        if block.kind == "heading":
            if current:
                yield from _closed(current)
            current = None
            headings = [(lvl, text) for lvl, text in headings if lvl < block.level] + [
                (block.level, block.text)
            ]
            continue
        heading = " > ".join(text for _lvl, text in headings)[:MAX_HEADING_CHARS] or None
        rows = block.kind == "row"
        for piece in _pieces(block.text):
            tokens = token_count(piece)
            if current and (
                current.page != block.page or current.rows != rows or current.tokens + tokens > TARGET_TOKENS
            ):
                yield from _closed(current)
                current = None
            if current is None:
                current = _Open(heading, block.page, rows=rows)
            current.parts.append(piece)
            current.tokens += tokens
    if current:
        yield from _closed(current)


def _closed(open_chunk: _Open) -> Iterator[Chunk]:
    body = ("\n" if open_chunk.rows else "\n\n").join(open_chunk.parts)
    content = f"{open_chunk.heading}\n{body}" if open_chunk.heading else body
    yield Chunk(content, open_chunk.heading, open_chunk.page, token_count(content))


def _pieces(text: str) -> Iterator[str]:
    """``text`` whole, or cut into pieces of at most ``MAX_TOKENS``."""
    if token_count(text) <= MAX_TOKENS:
        yield text
        return
    piece: list[str] = []
    size = 0
    for sentence in _SENTENCE_END.split(text):
        for part in _words_within(sentence):
            tokens = token_count(part)
            if piece and size + tokens > TARGET_TOKENS:
                yield " ".join(piece)
                piece, size = [], 0
            piece.append(part)
            size += tokens
    if piece:
        yield " ".join(piece)


def _words_within(sentence: str) -> Iterator[str]:
    if token_count(sentence) <= MAX_TOKENS:
        yield sentence
        return
    words = sentence.split()
    step = MAX_TOKENS // 2
    for start in range(0, len(words), step):
        yield " ".join(words[start : start + step])
