"""Embedding providers of the knowledge base: OpenAI, Google and any OpenAI-compatible LOCAL
``/embeddings``, behind one small interface. Every call goes through the outbound guard.

``Embedder.embed(texts)`` answers one L2-normalised float32 vector per text (so a dot product is the
cosine). Failures are ``EmbeddingError``; ``retryable`` says whether a later attempt may succeed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cxinbox.config import EmbeddingsSettings
from cxinbox.core.outbound import OutboundClient, OutboundError

#: texts per request (OpenAI takes up to 2048, Google up to 100)
BATCH_SIZE = 64
TIMEOUT_SECONDS = 60.0
MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class EmbeddingError(Exception):
    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Embedder:
    def __init__(self, settings: EmbeddingsSettings) -> None:
        self.settings = settings

    @property
    def model_id(self) -> str:
        """What a vector was made with: vectors of different ids are never compared."""
        return f"{self.settings.provider}:{self.settings.model}"

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """A ``(len(texts), dimensions)`` float32 matrix of unit vectors."""
        rows: list[list[float]] = []
        async with OutboundClient(
            allow_private=self.settings.allow_private_urls,
            timeout=TIMEOUT_SECONDS,
            max_bytes=MAX_RESPONSE_BYTES,
        ) as http:
            for start in range(0, len(texts), BATCH_SIZE):
                rows.extend(await self._batch(http, list(texts[start : start + BATCH_SIZE])))
        return normalised(rows)

    async def _batch(self, http: OutboundClient, texts: list[str]) -> list[list[float]]:
        url, headers, body = self._request(texts)
        try:
            response = await http.request("POST", url, headers=headers, json=body)
        except OutboundError as exc:
            raise EmbeddingError(
                f"The embedding provider did not answer: {exc}", retryable=exc.retryable
            ) from exc
        if response.status_code != 200:
            retryable = response.status_code == 429 or response.status_code >= 500
            raise EmbeddingError(
                f"The embedding provider answered HTTP {response.status_code}", retryable=retryable
            )
        try:
            vectors = self._vectors(response.json())
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise EmbeddingError("The embedding provider's answer is not readable", retryable=False) from exc
        if len(vectors) != len(texts):
            raise EmbeddingError(
                "The embedding provider answered a different number of vectors", retryable=False
            )
        return vectors

    def _request(self, texts: list[str]) -> tuple[str, dict[str, str], dict[str, Any]]:
        s = self.settings
        if s.provider == "GOOGLE":
            model = f"models/{s.model}"
            body = {"requests": [{"model": model, "content": {"parts": [{"text": t}]}} for t in texts]}
            headers = {"x-goog-api-key": s.api_key} if s.api_key else {}
            return f"{s.base_url}/v1beta/{model}:batchEmbedContents", headers, body
        headers = {"Authorization": f"Bearer {s.api_key}"} if s.api_key else {}
        return f"{s.base_url}/embeddings", headers, {"model": s.model, "input": texts}

    def _vectors(self, answer: dict[str, Any]) -> list[list[float]]:
        if self.settings.provider == "GOOGLE":
            return [list(item["values"]) for item in answer["embeddings"]]
        items = sorted(answer["data"], key=lambda item: int(item.get("index", 0)))
        return [list(item["embedding"]) for item in items]


def normalised(rows: Sequence[Sequence[float]]) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float32)
    if matrix.ndim != 2 or not np.isfinite(matrix).all():
        raise EmbeddingError("The embedding provider answered vectors that are not numbers", retryable=False)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def embedder_for(settings: EmbeddingsSettings | None) -> Embedder | None:
    return None if settings is None else Embedder(settings)
