"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import re
import socket
import time
from email.message import Message

from aiosmtpd.controller import Controller


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, _server, _session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self._inbox = _Inbox()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._controller = Controller(self._inbox, hostname="127.0.0.1", port=port)

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self._controller.port}"

    def messages_to(self, address: str) -> list[Message]:
        return [m for m in self._inbox.messages if m["To"] == address]

    async def wait_for(self, address: str, *, count: int = 1, timeout: float = 10.0) -> list[Message]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.messages_to(address)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.02)
        raise AssertionError(f"no mail for {address} within {timeout}s")

    @staticmethod
    def body(message: Message) -> str:
        payload = message.get_payload(decode=True)
        text = payload.decode() if isinstance(payload, bytes) else str(message.get_payload())
        return text.replace("\r\n", "\n")

    async def latest_code(self, address: str, *, count: int = 1) -> str:
        """The 6-digit code of the ``count``-th mail to ``address``."""
        mails = await self.wait_for(address, count=count)
        match = re.search(r"^(\d{6})$", self.body(mails[count - 1]), re.M)
        assert match, "the mail has no stand-alone 6-digit code"
        return match.group(1)
