"""Nearest chunks by embedding, without a database extension: an organization's vectors (float32
unit vectors in a BLOB/bytea column) are loaded once into a matrix kept by this process, and a
question is one matrix-vector product (cosine = dot product of unit vectors), brute force.

The matrix is reloaded when the organization's vectors change, told by a cheap signature (how many
there are and when the last one was written), so every process sees another's ingestion. Memory is
the design's limit: 4 bytes x dimensions per chunk (1536 dimensions: 6 KB, 20,000 chunks: 120 MB),
with at most ``MAX_CACHED_BYTES`` kept in all (least recently used first out). Past some 100,000
chunks per organization, a vector index (pgvector HNSW, or a vector store) is the next step.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.models.knowledge import KnowledgeChunk

MAX_CACHED_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class _Matrix:
    signature: tuple[Any, ...]
    ids: list[str]
    vectors: np.ndarray

    @property
    def nbytes(self) -> int:
        return int(self.vectors.nbytes)


_cache: OrderedDict[tuple[str, str], _Matrix] = OrderedDict()
_lock = threading.Lock()


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


async def nearest(
    session: AsyncSession, organization_id: str, model_id: str, query: np.ndarray, limit: int
) -> list[str]:
    """Ids of the ``limit`` chunks whose ``model_id`` vectors are closest to ``query`` (a unit vector)."""
    matrix = await _matrix(session, organization_id, model_id)
    if matrix is None or matrix.vectors.shape[1] != query.shape[0]:
        return []
    scores = matrix.vectors @ query.astype(np.float32)
    count = min(limit, len(scores))
    top = np.argpartition(-scores, count - 1)[:count]
    return [matrix.ids[i] for i in top[np.argsort(-scores[top])]]


async def _matrix(session: AsyncSession, organization_id: str, model_id: str) -> _Matrix | None:
    mine = (KnowledgeChunk.organization_id == organization_id, KnowledgeChunk.embedding_model == model_id)
    signature = tuple(
        (await session.execute(select(func.count(), func.max(KnowledgeChunk.updated_at)).where(*mine))).one()
    )
    if signature[0] == 0:
        return None
    key = (organization_id, model_id)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.signature == signature:
            _cache.move_to_end(key)
            return cached
    rows = (await session.execute(select(KnowledgeChunk.id, KnowledgeChunk.embedding).where(*mine))).all()
    width = max((len(row[1]) for row in rows if row[1]), default=0)
    usable = [(row[0], row[1]) for row in rows if row[1] and len(row[1]) == width]
    if not usable:
        return None
    vectors = np.frombuffer(b"".join(blob for _id, blob in usable), dtype=np.float32).reshape(len(usable), -1)
    matrix = _Matrix(signature, [chunk_id for chunk_id, _blob in usable], vectors)
    _keep(key, matrix)
    return matrix


def _keep(key: tuple[str, str], matrix: _Matrix) -> None:
    with _lock:
        _cache[key] = matrix
        _cache.move_to_end(key)
        while len(_cache) > 1 and sum(m.nbytes for m in _cache.values()) > MAX_CACHED_BYTES:
            _cache.popitem(last=False)
