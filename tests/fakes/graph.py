"""A fake Meta Graph API: a real HTTP server on 127.0.0.1 speaking the Cloud API's formats.

Tests register what the fake knows (tokens, phone numbers, media) and switch on failures; the fake
records what it was asked (sent messages, subscriptions, registrations).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.graph_pricing import FakePricing
from tests.fakes.graph_templates import FakeTemplates
from tests.fakes.serving import ThreadedServer

VERSION = "v23.0"
#: the Meta app id the test settings name (``CXINBOX_META_APP_ID``)
APP_ID = "test-meta-app"
_ids = itertools.count(1)


@dataclass
class Media:
    data: bytes
    mime_type: str
    token: str
    #: the next downloads that answer 503 before one succeeds
    failures_left: int = 0
    downloads: int = 0
    #: the download URL Meta's answer names, when it is not this fake's own
    url: str | None = None
    #: where the download answers a redirect to, instead of the bytes
    redirect_to: str | None = None
    #: the ``file_size`` Meta's answer gives, when it is not the data's
    declared_size: int | None = None


@dataclass
class PhoneNumber:
    display_phone_number: str
    #: the token that manages the number's business account
    token: str = ""
    #: its WhatsApp Business Account; None: whichever one its token asks about (tests that do not
    #: care which account a number is in)
    waba_id: str | None = None
    verified_name: str = "Acme Support"
    quality_rating: str = "GREEN"
    messaging_limit_tier: str = "TIER_1K"
    name_status: str = "APPROVED"


@dataclass
class GraphState:
    phone_numbers: dict[str, PhoneNumber] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    media: dict[str, Media] = field(default_factory=dict)
    #: one-time Embedded Signup code -> business token
    codes: dict[str, str] = field(default_factory=dict)
    #: phone number id -> errors the next sends answer with: (HTTP status, code, subcode)
    send_errors: dict[str, list[tuple[int, int, int | None]]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    #: ``biz_opaque_callback_data`` of an accepted send -> the wamid it was given (what Meta's status
    #: webhooks of that message carry)
    wamid_of: dict[str, str] = field(default_factory=dict)
    #: phone number id -> how many of its next sends are accepted (recorded as sent) but whose
    #: answer breaks off before it is whole, as when the connection or the sender dies mid-answer
    lost_answers: dict[str, int] = field(default_factory=dict)
    #: every send request, answered or refused, in arrival order
    send_attempts: list[dict[str, Any]] = field(default_factory=list)
    #: media uploaded for sending: media id -> (phone number id, file name, type, bytes)
    uploads: dict[str, tuple[str, str, str, bytes]] = field(default_factory=dict)
    subscribed_wabas: list[str] = field(default_factory=list)
    registered: list[str] = field(default_factory=list)
    #: seconds each read of a node (number, media) takes to answer: a slow Meta
    node_delay: float = 0.0
    #: seconds each send takes to answer once received (recorded at once): Meta's latency
    send_delay: float = 0.0
    #: node (number, business account) -> errors its next reads answer with: (HTTP status, code)
    read_errors: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    #: numbers of a business account per page of ``GET /{waba_id}/phone_numbers`` unless asked
    numbers_page_size: int = 25

    def restore_behaviour(self) -> None:
        """Undo what a test set to make Meta slow or paged differently (the data stays)."""
        self.node_delay = GraphState.node_delay
        self.send_delay = GraphState.send_delay
        self.numbers_page_size = GraphState.numbers_page_size


def meta_error(status: int, code: int, message: str, subcode: int | None = None) -> JSONResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": uuid.uuid4().hex[:22],
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)


def _number_fields(phone_number_id: str, number: PhoneNumber) -> dict[str, Any]:
    return {
        "id": phone_number_id,
        "display_phone_number": number.display_phone_number,
        "verified_name": number.verified_name,
        "quality_rating": number.quality_rating,
        "messaging_limit_tier": number.messaging_limit_tier,
        "throughput": {"level": "STANDARD"},
        "name_status": number.name_status,
        "code_verification_status": "VERIFIED",
    }


def _missing(node: str) -> JSONResponse:
    """What Meta answers for an object that does not exist or that the token may not see."""
    return meta_error(
        400,
        100,
        f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation",
        subcode=33,
    )


class FakeGraph(ThreadedServer):
    def __init__(self) -> None:
        self.state = GraphState()
        self._lock = threading.Lock()
        self.templates = FakeTemplates(
            self._authorized, _missing, self._invalid_token, self._read_error, app_id=APP_ID
        )
        templates = self.templates
        self.pricing = FakePricing()
        self.app = Starlette(
            routes=[
                Route(
                    f"/{VERSION}/{{node}}/message_templates",
                    templates.templates,
                    methods=["GET", "POST", "DELETE"],
                ),
                Route(f"/{VERSION}/{{node}}/uploads", templates.open_upload, methods=["POST"]),
                # a template edit, and the second step of a resumable upload (``/upload:<session>``)
                Route(f"/{VERSION}/{{node}}", templates.edit, methods=["POST"]),
                Route(f"/{VERSION}/oauth/access_token", self._exchange_code, methods=["GET"]),
                Route("/media-download/{media_id}", self._download, methods=["GET"]),
                Route(f"/{VERSION}/{{node}}/messages", self._send, methods=["POST"]),
                Route(f"/{VERSION}/{{node}}/media", self._upload, methods=["POST"]),
                Route(f"/{VERSION}/{{node}}/subscribed_apps", self._subscribe, methods=["POST"]),
                Route(f"/{VERSION}/{{node}}/register", self._register, methods=["POST"]),
                Route(f"/{VERSION}/{{node}}/phone_numbers", self._business_numbers, methods=["GET"]),
                Route(f"/{VERSION}/{{node}}", self._node, methods=["GET"]),
            ]
        )
        super().__init__(self.app, name="fake Graph API")

    # --- what tests set up -----------------------------------------------------------------------

    def add_number(
        self, phone_number_id: str, token: str, display: str = "+1 555 0100", *, waba_id: str | None = None
    ) -> None:
        with self._lock:
            self.state.tokens.add(token)
            self.state.phone_numbers[phone_number_id] = PhoneNumber(display, token, waba_id)

    def fail_next_reads(self, node: str, *errors: tuple[int, int]) -> None:
        with self._lock:
            self.state.read_errors.setdefault(node, []).extend(errors)

    def add_media(
        self,
        token: str,
        data: bytes,
        mime_type: str,
        *,
        failures: int = 0,
        url: str | None = None,
        redirect_to: str | None = None,
    ) -> str:
        media_id = str(9_000_000_000 + next(_ids))
        with self._lock:
            self.state.tokens.add(token)
            self.state.media[media_id] = Media(
                data, mime_type, token, failures_left=failures, url=url, redirect_to=redirect_to
            )
        return media_id

    def add_code(self, code: str, token: str) -> None:
        with self._lock:
            self.state.codes[code] = token
            self.state.tokens.add(token)

    def fail_next_sends(self, phone_number_id: str, *errors: tuple[int, int, int | None]) -> None:
        with self._lock:
            self.state.send_errors.setdefault(phone_number_id, []).extend(errors)

    def lose_next_answers(self, phone_number_id: str, count: int) -> None:
        with self._lock:
            self.state.lost_answers[phone_number_id] = self.state.lost_answers.get(phone_number_id, 0) + count

    def sent_by(self, phone_number_id: str) -> list[dict[str, Any]]:
        """The messages a number sent successfully, in order."""
        with self._lock:
            return [m for m in self.state.sent if m["phone_number_id"] == phone_number_id]

    def attempts_by(self, phone_number_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.state.send_attempts if m["phone_number_id"] == phone_number_id]

    # --- handlers --------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
        token = token or request.query_params.get("access_token")
        return token if token in self.state.tokens else None

    @staticmethod
    def _invalid_token() -> JSONResponse:
        return meta_error(401, 190, "Error validating access token: Session has expired", 463)

    async def _exchange_code(self, request: Request) -> Response:
        code = request.query_params.get("code", "")
        token = self.state.codes.get(code)
        if not request.query_params.get("client_id") or not request.query_params.get("client_secret"):
            return meta_error(400, 100, "Missing client_id or client_secret")
        if token is None:
            return meta_error(400, 100, "Invalid verification code format.", 36007)
        return JSONResponse({"access_token": token, "token_type": "bearer"})

    def _read_error(self, node: str) -> JSONResponse | None:
        with self._lock:
            pending = self.state.read_errors.get(node)
            failure = pending.pop(0) if pending else None
        if failure is None:
            return None
        status, code = failure
        return meta_error(status, code, "An unexpected error has occurred. Please retry your request later.")

    async def _node(self, request: Request) -> Response:
        if self.state.node_delay:
            await asyncio.sleep(self.state.node_delay)
        if self._authorized(request) is None:
            return self._invalid_token()
        node = request.path_params["node"]
        if failure := self._read_error(node):
            return failure
        if media := self.state.media.get(node):
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "url": media.url or f"{self.url}/media-download/{node}",
                    "mime_type": media.mime_type,
                    "sha256": hashlib.sha256(media.data).hexdigest(),
                    "file_size": media.declared_size or len(media.data),
                    "id": node,
                }
            )
        if number := self.state.phone_numbers.get(node):
            return JSONResponse(_number_fields(node, number))
        if priced := self.pricing.answer(node, request.query_params.get("fields", "")):
            return priced
        return _missing(node)

    async def _business_numbers(self, request: Request) -> Response:
        """``GET /{waba_id}/phone_numbers``: the account's numbers, paged by cursor, to a token that
        manages the account; to any other token the account does not exist."""
        token = self._authorized(request)
        if token is None:
            return self._invalid_token()
        waba = request.path_params["node"]
        if failure := self._read_error(waba):
            return failure
        numbers = [(i, n) for i, n in self.state.phone_numbers.items() if n.waba_id == waba]
        if numbers and all(n.token != token for _, n in numbers):
            return _missing(waba)
        numbers += [
            (i, n) for i, n in self.state.phone_numbers.items() if n.waba_id is None and n.token == token
        ]
        if not numbers:
            return _missing(waba)
        size = int(request.query_params.get("limit") or self.state.numbers_page_size)
        start = int(request.query_params.get("after") or 0)
        page = numbers[start : start + size]
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
        if start + size < len(numbers):
            paging["next"] = f"{self.url}/{VERSION}/{waba}/phone_numbers?limit={size}&after={start + size}"
        return JSONResponse({"data": [_number_fields(i, n) for i, n in page], "paging": paging})

    async def _download(self, request: Request) -> Response:
        media = self.state.media.get(request.path_params["media_id"])
        if media is None:
            return Response(status_code=404)
        if self._authorized(request) != media.token:
            return Response(status_code=401)
        if media.redirect_to:
            return RedirectResponse(media.redirect_to)
        with self._lock:
            media.downloads += 1
            if media.failures_left > 0:
                media.failures_left -= 1
                return Response(b"upstream unavailable", status_code=503)
        return Response(media.data, media_type=media.mime_type)

    async def _send(self, request: Request) -> Response:
        if self._authorized(request) is None:
            return self._invalid_token()
        node = request.path_params["node"]
        body = await request.json()
        with self._lock:
            self.state.send_attempts.append({"phone_number_id": node, **body})
            pending = self.state.send_errors.get(node)
            failure = pending.pop(0) if pending else None
            if failure is None:
                self.state.sent.append({"phone_number_id": node, **body})
        if self.state.send_delay:
            await asyncio.sleep(self.state.send_delay)
        if failure is not None:
            status, code, subcode = failure
            return meta_error(status, code, f"Send failed with code {code}", subcode)
        if node not in self.state.phone_numbers:
            return meta_error(400, 100, f"Object with ID '{node}' does not exist", subcode=33)
        kind = body.get("type")
        if kind == "template" and (refused := self.templates.check_send(body)) is not None:
            return refused
        media_id = (body.get(kind) or {}).get("id") if isinstance(body.get(kind), dict) else None
        if media_id is not None and media_id not in self.state.uploads:
            return meta_error(400, 131053, f"Media upload error: unknown media id {media_id}")
        to = str(body.get("to", ""))
        wamid = f"wamid.{uuid.uuid4().hex}"
        with self._lock:
            if isinstance(callback := body.get("biz_opaque_callback_data"), str):
                self.state.wamid_of[callback] = wamid
            lose = self.state.lost_answers.get(node, 0) > 0
            if lose:
                self.state.lost_answers[node] -= 1
        answer = JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
                "messages": [{"id": wamid}],
            }
        )
        if lose:
            # the declared length is longer than the body: the server gives up and closes the
            # connection, the client never gets the whole answer
            answer.headers["content-length"] = str(len(answer.body) + 64)
        return answer

    async def _upload(self, request: Request) -> Response:
        if self._authorized(request) is None:
            return self._invalid_token()
        form = await request.form()
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp" or upload is None or isinstance(upload, str):
            return meta_error(400, 100, "(#100) The parameter file is required")
        data = await upload.read()
        media_id = str(8_000_000_000 + next(_ids))
        with self._lock:
            self.state.uploads[media_id] = (
                request.path_params["node"],
                upload.filename or "",
                str(form.get("type") or ""),
                data,
            )
        return JSONResponse({"id": media_id})

    async def _subscribe(self, request: Request) -> Response:
        if self._authorized(request) is None:
            return self._invalid_token()
        with self._lock:
            self.state.subscribed_wabas.append(request.path_params["node"])
        return JSONResponse({"success": True})

    async def _register(self, request: Request) -> Response:
        if self._authorized(request) is None:
            return self._invalid_token()
        with self._lock:
            self.state.registered.append(request.path_params["node"])
        return JSONResponse({"success": True})
