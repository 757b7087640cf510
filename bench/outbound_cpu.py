"""CPU per outbound call: what the client side of an LLM chat call and of a tool call costs.

A loopback server in a child process (its CPU is not counted) answers ``POST /v1/chat/completions``
as an OpenAI-compatible provider does and ``GET /orders/{id}`` as a business API does. The bench
makes ``--calls`` sequential calls of each kind through the project's own code (the LLM adapter:
``OpenAIChat.complete``; the tools engine: ``engine.send`` with a bearer token, redacted answer), on
the event loop's kept-alive shared client, and prints the process's CPU time (``time.process_time``)
per call: a figure that a loaded machine does not move much, unlike a wall-clock latency. Bare httpx
and bare aiohttp calls of the same URLs are printed beside them, as the floor of each transport.

    .venv/bin/python -m bench.outbound_cpu [--calls 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx

from cxinbox.adapters.llm.base import ChatMessage, CompletionRequest, Endpoint
from cxinbox.adapters.llm.openai_chat import OpenAIChat
from cxinbox.core.logging import configure_logging
from cxinbox.core.outbound import close_shared_clients
from cxinbox.models.tools import AuthType
from cxinbox.tools import engine
from cxinbox.tools.endpoints import Endpoint as ToolEndpoint

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Tu pedido fue enviado."},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 9},
    }
).encode()
ORDER = json.dumps({"data": {"id": "A-1", "status": "shipped", "items": [1, 2, 3]}}).encode()


def _serve(port: multiprocessing.SimpleQueue) -> None:
    from aiohttp import web

    async def chat(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=COMPLETION, content_type="application/json")

    async def order(request: web.Request) -> web.Response:
        return web.Response(body=ORDER, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", chat)
        app.router.add_get("/orders/{id}", order)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


async def cpu_per_call(call: Callable[[], Awaitable[object]], calls: int) -> float:
    """Milliseconds of this process's CPU per call, after a warm-up (connections opened)."""
    for _ in range(50):
        await call()
    started = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - started) * 1000 / calls


async def run(base: str, calls: int) -> list[tuple[str, float]]:
    llm = OpenAIChat()
    endpoint = Endpoint(base_url=f"{base}/v1", api_key="sk-bench-123456", allow_private=True)
    request = CompletionRequest(
        model="gpt-bench", system="Be brief.", messages=[ChatMessage("user", "¿Y mi pedido?")]
    )
    tool = ToolEndpoint(base_url=base, auth_type=AuthType.BEARER, secrets={"token": "bench-token-123456"})
    template = engine.RequestTemplate(path="/orders/{{params.orderId}}")
    values = {"params.orderId": "A-1"}
    body = {"model": "gpt-bench", "messages": [{"role": "user", "content": "¿Y mi pedido?"}]}
    assert (await llm.complete(endpoint, request)).text, "the LLM call must answer"
    assert (await engine.send(tool, template, values, allow_private=True)).ok, "the tool call must answer 2xx"
    rows = []
    async with httpx.AsyncClient() as bare_httpx, aiohttp.ClientSession() as bare_aiohttp:

        async def httpx_chat() -> object:
            return (await bare_httpx.post(f"{base}/v1/chat/completions", json=body)).json()

        async def aiohttp_chat() -> object:
            async with bare_aiohttp.post(f"{base}/v1/chat/completions", json=body) as response:
                return await response.json()

        rows.append(("bare httpx: chat POST", await cpu_per_call(httpx_chat, calls)))
        rows.append(("bare aiohttp: chat POST", await cpu_per_call(aiohttp_chat, calls)))
        rows.append(
            (
                "LLM adapter (OpenAIChat.complete)",
                await cpu_per_call(lambda: llm.complete(endpoint, request), calls),
            )
        )
        rows.append(
            (
                "tool call (engine.send)",
                await cpu_per_call(lambda: engine.send(tool, template, values, allow_private=True), calls),
            )
        )
    await close_shared_clients()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    configure_logging("WARNING")  # as a server runs: the per-call INFO lines are filtered out
    ports: multiprocessing.SimpleQueue = multiprocessing.SimpleQueue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{ports.get()}"
        rows = asyncio.run(run(base, args.calls))
    finally:
        server.terminate()
        server.join()
    print(f"{args.calls} sequential calls each, kept-alive, to a loopback server (another process)")
    print(f"{'':40}{'CPU ms/call':>12}")
    for name, ms in rows:
        print(f"{name:40}{ms:12.3f}")


if __name__ == "__main__":
    main()
