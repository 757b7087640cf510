"""The inbox page's first render: ``GET /inbox`` (the whole page) and ``GET /inbox/list`` (the
fragment htmx refreshes when the stream opens), and ``GET /inbox/row/{id}`` (the one row a page
fetches on a conversation's event, here the list's first), as a signed-in admin's browser asks for
them (the console's cookie), timed from the request's start to the last byte of the answer on
loopback: the server's time plus a loopback round trip."""

from __future__ import annotations

import re
import time

import httpx

from bench.inbox_queries.measure import Timing

#: the console's access-token cookie (``cxinbox.console.visit.ACCESS_COOKIE``)
ACCESS_COOKIE = "cx_access"
FIRST_ROW = re.compile(r'<li [^>]*data-id="([^"]+)"')


async def first_render(site: str, token: str, requests: int) -> list[Timing]:
    timings = []
    cookies = {ACCESS_COOKIE: token}
    async with httpx.AsyncClient(base_url=site, cookies=cookies, timeout=60) as http:
        first = FIRST_ROW.search((await http.get("/inbox/list")).text)
        if first is None:
            raise SystemExit("/inbox/list: not an inbox with conversations")
        for name, path, headers in (
            ("inbox page (full HTML)", "/inbox", {}),
            ("inbox list (htmx fragment)", "/inbox/list", {"HX-Request": "true"}),
            ("inbox, unassigned view", "/inbox?view=unassigned", {}),
            ("one row (a live update)", f"/inbox/row/{first.group(1)}", {}),
        ):
            samples, rows = [], 0
            for i in range(-max(3, requests // 10), requests):  # the first ones warm up, untimed
                started = time.perf_counter()
                response = await http.get(path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200 or 'href="/conversations/' not in response.text:
                    raise SystemExit(
                        f"{path} answered {response.status_code}: not an inbox with conversations"
                    )
                if i >= 0:
                    samples.append(elapsed)
                    rows = response.text.count('<a href="/conversations/')
            timings.append(Timing(name, f"GET {path.replace(first.group(1), '{id}')}", samples, rows))
    return timings
