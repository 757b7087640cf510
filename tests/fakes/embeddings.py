"""A fake OpenAI-compatible embeddings service (``POST /v1/embeddings``, OpenAI's wire format) on
127.0.0.1, and the deterministic local embedding it answers with.

``local_embedding`` stands in for a real model: feature hashing of each word's stems (Spanish and
English) and of its character trigrams into ``DIMENSIONS`` signed buckets, L2-normalised. Texts that
share words, word forms or spellings close to each other land near each other; it knows no
synonyms, so it is a floor for what a real model adds, not an estimate of it.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from cxinbox.knowledge.text import ENGLISH, SPANISH, fold, stem, words
from tests.fakes.serving import ThreadedServer

DIMENSIONS = 256


def _bucket(feature: str) -> tuple[int, float]:
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
    return digest % DIMENSIONS, 1.0 if digest >> 63 else -1.0


def local_embedding(text: str) -> list[float]:
    vector = [0.0] * DIMENSIONS
    for word in words(text):
        folded = fold(word)
        if folded in SPANISH or folded in ENGLISH:
            continue
        features = {f"w:{stem(word, 'es')}": 1.0, f"w:{stem(word, 'en')}": 1.0}
        padded = f"#{folded}#"
        for i in range(len(padded) - 2):
            features[f"g:{padded[i : i + 3]}"] = 0.4
        for feature, weight in features.items():
            index, sign = _bucket(feature)
            vector[index] += sign * weight
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


@dataclass(frozen=True)
class EmbeddingCall:
    model: str
    inputs: int
    authorization: str | None


class FakeEmbeddings(ThreadedServer):
    def __init__(self) -> None:
        self.calls: list[EmbeddingCall] = []
        #: answer every request with this HTTP status instead (a provider that is down)
        self.failing_status: int | None = None
        self._lock = threading.Lock()
        super().__init__(
            Starlette(routes=[Route("/v1/embeddings", self._embeddings, methods=["POST"])]), name="embeddings"
        )

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    async def _embeddings(self, request: Request) -> Response:
        body = await request.json()
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        with self._lock:
            self.calls.append(EmbeddingCall(body["model"], len(inputs), request.headers.get("authorization")))
        if self.failing_status is not None:
            return JSONResponse({"error": {"message": "unavailable"}}, status_code=self.failing_status)
        data = [
            {"object": "embedding", "index": i, "embedding": local_embedding(t)} for i, t in enumerate(inputs)
        ]
        usage = {"prompt_tokens": sum(len(t.split()) for t in inputs), "total_tokens": 0}
        return JSONResponse({"object": "list", "data": data, "model": body["model"], "usage": usage})
