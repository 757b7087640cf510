"""Running a fake outside service: an ASGI app served by uvicorn on 127.0.0.1, in a thread of its own
so that it answers while a test's event loop waits on it."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from tests.fixtures.net import free_port


class ThreadedServer:
    def __init__(self, app: Any, *, name: str) -> None:
        self.port = free_port()
        self._name = name
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, lifespan="off")
        config.timeout_graceful_shutdown = 1  # a request left hanging by a test does not hold up the end
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self._name} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
