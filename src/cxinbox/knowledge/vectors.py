"""Nearest chunks by embedding, without a database extension: an organization's vectors (float32
unit vectors in a BLOB/bytea column) are loaded once into a matrix kept by this process, and a
question is one matrix-vector product (cosine = dot product of unit vectors), brute force.

The matrix is reloaded when the organization's knowledge version changes (raised in the transaction
of every change to its chunks: ``repository.chunks_changed``), one primary-key read per question, so
every process sees another's ingestion and deletion. Memory is
the design's limit: 4 bytes x dimensions per chunk (1536 dimensions: 6 KB, 20,000 chunks: 120 MB),
with at most ``MAX_CACHED_BYTES`` kept in all (least recently used first out). Past some 100,000
chunks per organization, a vector index (pgvector HNSW, or a vector store) is the next step.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from cxinbox.knowledge.repository import knowledge_version
from cxinbox.models.knowledge import KnowledgeChunk

MAX_CACHED_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class _Matrix:
    version: int
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
    # einsum, not ``@``: BLAS splits a product this small over threads, and on a busy machine waiting
    # for them cost 20-30 ms where one thread takes about 1 ms (20,000 x 256)
    scores = np.einsum("ij,j->i", matrix.vectors, query.astype(np.float32))
    count = min(limit, len(scores))
    top = np.argpartition(-scores, count - 1)[:count]
    return [matrix.ids[i] for i in top[np.argsort(-scores[top])]]


async def _matrix(session: AsyncSession, organization_id: str, model_id: str) -> _Matrix | None:
    # read before the vectors: a change committed in between reloads them once more, never less
    version = await knowledge_version(session, organization_id)
    key = (organization_id, model_id)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.version == version:
            _cache.move_to_end(key)
            return cached
    mine = (KnowledgeChunk.organization_id == organization_id, KnowledgeChunk.embedding_model == model_id)
    rows = (await session.execute(select(KnowledgeChunk.id, KnowledgeChunk.embedding).where(*mine))).all()
    width = max((len(row[1]) for row in rows if row[1]), default=0)
    usable = [(row[0], row[1]) for row in rows if row[1] and len(row[1]) == width]
    if not usable:
        return None
    vectors = np.frombuffer(b"".join(blob for _id, blob in usable), dtype=np.float32).reshape(len(usable), -1)
    matrix = _Matrix(version, [chunk_id for chunk_id, _blob in usable], vectors)
    _keep(key, matrix)
    return matrix


def _keep(key: tuple[str, str], matrix: _Matrix) -> None:
    with _lock:
        _cache[key] = matrix
        _cache.move_to_end(key)
        while len(_cache) > 1 and sum(m.nbytes for m in _cache.values()) > MAX_CACHED_BYTES:
            _cache.popitem(last=False)
