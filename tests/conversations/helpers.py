"""What the conversation tests share among themselves: every endpoint about one conversation, and a
listener's event stream read over real HTTP."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx


def endpoints(conversation_id: str, user_id: str, tag_id: str = "no-such-tag") -> list[tuple[str, str, Any]]:
    """Every endpoint about one conversation: (method, path, JSON body)."""
    base = f"/conversations/{conversation_id}"
    return [
        ("GET", base, None),
        ("PATCH", base, {"priority": "HIGH"}),
        ("POST", f"{base}/takeover", None),
        ("POST", f"{base}/return-to-bot", {}),
        ("POST", f"{base}/read", None),
        ("POST", f"{base}/assign", {"userId": user_id}),
        ("POST", f"{base}/unassign", None),
        ("POST", f"{base}/resolve", None),
        ("POST", f"{base}/follow-up", {"note": "call back"}),
        ("DELETE", f"{base}/follow-up", None),
        ("GET", f"{base}/contact-history", None),
        ("POST", f"{base}/re-classify", None),
        ("POST", f"{base}/re-route", None),
        ("POST", f"{base}/generate-handoff-summary", None),
        ("POST", f"{base}/tags", {"tagId": tag_id}),
        ("DELETE", f"{base}/tags/{tag_id}", None),
    ]


async def call(client: httpx.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    return await client.request(method, path, json=body, headers=headers)


@dataclass
class Stream:
    """The SSE stream of one listener, read by a real HTTP client from a real server."""

    events: list[dict[str, Any]] = field(default_factory=list)

    def types_for(self, conversation_id: str) -> list[str]:
        return [e["type"] for e in self.events if (e["data"].get("data") or {}).get("id") == conversation_id]


async def read_stream(base_url: str, headers: dict[str, str], stream: Stream, *, until: str) -> None:
    """Read ``base_url``'s event stream from the start of the organization's log until an event of
    type ``until`` arrives (the test's last action), collecting the events into ``stream``."""
    async with httpx.AsyncClient(timeout=30) as c:
        request_headers = headers | {"Last-Event-ID": "0", "Accept": "text/event-stream"}
        async with c.stream("GET", f"{base_url}/events", headers=request_headers) as response:
            assert response.status_code == 200
            current: dict[str, Any] = {}
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    current["type"] = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    current["data"] = json.loads(line.removeprefix("data:").strip())
                elif not line and "type" in current:
                    stream.events.append(current)
                    if current["type"] == until:
                        return
                    current = {}
