"""A live update's delay: from the moment a signed WhatsApp webhook (a new customer's message) is
sent to the server, until

- each of ``clients`` event-stream connections opened as the console opens them (``GET /stream``
  with the console's cookie, redirected to ``/api/v1/events`` with a stream token) has received the
  ``message.created`` event naming it (measured in this process, which reads every stream);
- each of ``browsers`` headless Chromium pages with the inbox open shows the new message in its
  conversation list (the page's own script, on the ``conversation.created`` event, fetching that
  one row, ``GET /inbox/row/{id}``, and putting it in place), checked on every animation frame
  through Playwright.

Updates are sent one at a time, ``gap`` seconds apart.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from bench.console.render import ACCESS_COOKIE
from cxinbox.whatsapp.signature import sign

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, Playwright

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()


@dataclass
class Delays:
    stream_ms: list[float] = field(default_factory=list)
    dom_ms: list[float] = field(default_factory=list)
    missed: int = 0
    reopened: int = 0


def webhook(number: str, marker: str) -> bytes:
    wa_id = f"1777{uuid.uuid4().int % 10**8:08d}"
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100", "phone_number_id": number},
        "contacts": [{"profile": {"name": f"Live {marker[-6:]}"}, "wa_id": wa_id}],
        "messages": [
            {
                "from": wa_id,
                "id": f"wamid.console.{uuid.uuid4().hex}",
                "timestamp": str(int(time.time())),
                "type": "text",
                "text": {"body": marker},
            }
        ],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": number, "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


class Streams:
    """``count`` event streams; ``arrived[marker]`` collects when each saw the marker's message."""

    def __init__(self, site: str, token: str, count: int) -> None:
        self.site, self.token, self.count = site, token, count
        self.arrived: dict[str, list[float]] = {}
        self.open = 0
        self.reopened = 0
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Streams:
        limits = httpx.Limits(max_connections=self.count + 10, max_keepalive_connections=self.count + 10)
        self._http = httpx.AsyncClient(
            base_url=self.site, cookies={ACCESS_COOKIE: self.token}, timeout=None, limits=limits
        )
        self._tasks = [asyncio.create_task(self._read()) for _ in range(self.count)]
        deadline = time.monotonic() + 120
        while self.open < self.count:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {self.open} of {self.count} event streams opened")
            await asyncio.sleep(0.1)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._http.aclose()

    async def _read(self) -> None:
        """One stream, reopened after an error as the page's SSE extension reopens it (counted)."""
        while True:
            try:
                async with self._http.stream("GET", "/stream", follow_redirects=True) as response:
                    response.raise_for_status()
                    self.open += 1
                    try:
                        await self._events(response)
                    finally:
                        self.open -= 1
            except httpx.HTTPError:
                self.reopened += 1
                await asyncio.sleep(0.5)

    async def _events(self, response: httpx.Response) -> None:
        kind = ""
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:") and kind == "message.created":
                now = time.perf_counter()
                for marker, times in self.arrived.items():
                    if marker in line:
                        times.append(now)


async def _browsers(site: str, token: str, count: int) -> tuple[Playwright, Browser, list[Page]]:
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
    )
    pages = []
    host = site.split("//", 1)[1].split(":")[0]
    for _ in range(count):
        # bypass_csp: the page forbids eval, which the check of each animation frame needs
        context = await browser.new_context(viewport={"width": 1100, "height": 720}, bypass_csp=True)
        await context.add_cookies([{"name": ACCESS_COOKIE, "value": token, "domain": host, "path": "/"}])
        page = await context.new_page()
        async with page.expect_response(lambda r: "/api/v1/events" in r.url, timeout=120_000):
            await page.goto(site + "/inbox", timeout=120_000)
        pages.append(page)
    return playwright, browser, pages


async def live_delays(
    site: str,
    token: str,
    number: str,
    app_secret: str,
    *,
    clients: int,
    browsers: int,
    updates: int,
    gap: float,
) -> Delays:
    delays = Delays()
    playwright: Playwright | None = None
    browser: Browser | None = None
    pages: list[Page] = []
    if browsers and HAVE_CHROMIUM:
        playwright, browser, pages = await _browsers(site, token, browsers)
    try:
        async with (
            Streams(site, token, clients) as streams,
            httpx.AsyncClient(base_url=site, timeout=60) as http,
        ):
            await asyncio.sleep(2)  # the pages' first refreshes (on opening their stream) settle
            for i in range(updates):
                marker = f"live-{i}-{uuid.uuid4().hex[:10]}"
                streams.arrived[marker] = []
                body = webhook(number, marker)
                headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(app_secret, body)}
                watchers = [
                    asyncio.create_task(
                        page.wait_for_function(
                            f"document.getElementById('conversation-list').innerText.includes({json.dumps(marker)})",
                            polling="raf",
                            timeout=30_000,
                        )
                    )
                    for page in pages
                ]
                sent = time.perf_counter()
                response = await http.post("/api/v1/webhooks/whatsapp", content=body, headers=headers)
                response.raise_for_status()
                for watcher in asyncio.as_completed(watchers):
                    try:
                        await watcher
                        delays.dom_ms.append((time.perf_counter() - sent) * 1000)
                    except Exception:  # noqa: BLE001 - a page that never showed it counts as missed
                        delays.missed += 1
                deadline = time.monotonic() + 30
                while len(streams.arrived[marker]) < clients and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                times = streams.arrived.pop(marker)
                delays.missed += clients - len(times)
                delays.stream_ms.extend((t - sent) * 1000 for t in times)
                delays.reopened = streams.reopened
                print(f"  update {i + 1}/{updates}: {len(times)} streams, {len(pages)} pages", flush=True)
                await asyncio.sleep(gap)
    finally:
        if browser is not None:
            await browser.close()
        if playwright is not None:
            await playwright.stop()
    return delays
