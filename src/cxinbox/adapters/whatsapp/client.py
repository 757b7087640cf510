"""Calls to ``{META_GRAPH_URL}/{META_GRAPH_VERSION}/…`` with an account's token.

Every failure surfaces as a ``GraphError`` (Meta's code, subcode and a ``retryable`` flag), including
timeouts and connection errors, so callers decide between retrying and failing for good.

Every call goes through the outbound guard (``cxinbox.core.outbound``), and the token (or the app
secret) goes only to the configured Graph base and, over https, to Meta's media hosts: a media id is
digits only and a media URL from Meta's answer must be on one of those hosts, on every redirect hop.
Message sends, the one call made hundreds of times a second (a campaign), go through the guard's
lean client (``cxinbox.core.outbound_bulk``), kept alive per event loop, to the Graph base only.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from cxinbox.adapters.whatsapp.errors import GraphError, int_or_none
from cxinbox.config import MetaSettings
from cxinbox.core.outbound import Closing, OutboundClient, OutboundError, OutboundUnavailable
from cxinbox.core.outbound_bulk import BulkOutbound, shared_bulk_session

TIMEOUT_SECONDS = 20.0
#: Meta answers a media id with a short-lived URL on its own CDN, e.g.
#: ``https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=…``. These domains (and their
#: subdomains) are the only places besides the Graph base that receive the account's token.
META_MEDIA_DOMAINS = ("fbsbx.com", "fbcdn.net", "whatsapp.net")
#: the largest file the Cloud API carries (documents, 100 MB)
MAX_MEDIA_BYTES = 100 * 1024 * 1024
#: Graph's JSON answers are small; anything this large is not one
MAX_JSON_BYTES = 1024 * 1024
_MEDIA_ID = re.compile(r"[0-9]{1,32}")
#: what is read of a phone number (``GET /{phone_number_id}``, and each number of a business account)
PHONE_NUMBER_FIELDS = (
    "id,display_phone_number,verified_name,quality_rating,messaging_limit_tier,"
    "throughput,name_status,code_verification_status"
)
#: pages of a business account's numbers read at most (a business account holds a few numbers;
#: Meta's default cap is 20, raised on request)
MAX_NUMBER_PAGES = 20
NUMBERS_PAGE_SIZE = 100
#: what a sync reads of each template (Graph gives only a few default fields unless asked)
TEMPLATE_FIELDS = (
    "id,name,language,status,category,components,quality_score,rejected_reason,previous_category"
)
#: pages of a business account's templates read at most (Meta allows 250 names per account, each
#: in several languages)
MAX_TEMPLATE_PAGES = 100
TEMPLATES_PAGE_SIZE = 100
#: a Resumable Upload session id as Meta answers it (``upload:<id>``, with a ``?sig=`` signature):
#: nothing else is joined to the Graph base
_UPLOAD_SESSION = re.compile(r"upload:[A-Za-z0-9_=:.%-]{1,512}(\?sig=[A-Za-z0-9_=.%-]{1,512})?")


def is_media_id(value: object) -> bool:
    """Whether ``value`` looks like a Graph media id (digits only): nothing else reaches a URL."""
    return isinstance(value, str) and _MEDIA_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class MediaInfo:
    id: str
    url: str
    mime_type: str
    sha256: str | None
    file_size: int | None


@dataclass(frozen=True)
class PhoneNumberInfo:
    id: str
    display_phone_number: str | None
    verified_name: str | None
    quality_rating: str | None
    messaging_limit_tier: str | None
    throughput: str | None
    name_status: str | None
    raw: dict[str, Any]


class GraphClient(Closing):
    """``async with GraphClient(settings.meta, token) as graph: …``"""

    def __init__(self, meta: MetaSettings, access_token: str | None = None) -> None:
        self._meta = meta
        self._token = access_token
        self._base = httpx.URL(f"{meta.graph_url}/{meta.graph_version}/")
        self._messages_base = str(self._base)
        #: made on the first call other than a message send (those go through the lean client)
        self._client: OutboundClient | None = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    @functools.cached_property
    def _sender(self) -> BulkOutbound:
        return shared_bulk_session(allow_private=self._meta.allow_private_urls)

    @property
    def _http(self) -> OutboundClient:
        if self._client is None:
            self._client = OutboundClient(
                allow_private=self._meta.allow_private_urls, timeout=TIMEOUT_SECONDS
            )
        return self._client

    # --- media -------------------------------------------------------------------------------------

    async def media_info(self, media_id: str) -> MediaInfo:
        if not is_media_id(media_id):
            raise GraphError("Invalid media id", retryable=False)
        body = await self._json("GET", quote(media_id, safe=""))
        url = body.get("url")
        if not isinstance(url, str) or not url:
            raise GraphError("Graph API answered without a media URL", retryable=False)
        file_size = int_or_none(body.get("file_size"))
        if file_size is not None and file_size > MAX_MEDIA_BYTES:
            raise GraphError(f"The media is larger than {MAX_MEDIA_BYTES} bytes", retryable=False)
        return MediaInfo(
            id=str(body.get("id") or media_id),
            url=url,
            mime_type=str(body.get("mime_type") or "application/octet-stream"),
            sha256=body.get("sha256"),
            file_size=file_size,
        )

    async def download(self, url: str) -> bytes:
        """The bytes behind a media URL (it lives about five minutes; it needs the token too)."""
        response = await self._send("GET", url, max_bytes=MAX_MEDIA_BYTES)
        return response.content

    async def upload_media(self, phone_number_id: str, data: bytes, mime_type: str, filename: str) -> str:
        """Upload a file for sending (``POST /{phone_number_id}/media``, multipart); answers its id."""
        body = await self._json(
            "POST",
            f"{phone_number_id}/media",
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, data, mime_type)},
        )
        if not body.get("id"):
            raise GraphError("Graph API answered without a media id", retryable=False)
        return str(body["id"])

    # --- messages ----------------------------------------------------------------------------------

    async def send_message(self, phone_number_id: str, payload: dict[str, Any]) -> str:
        """Send ``payload`` (``to``, ``type``, ``<type>: {…}``); answers the wamid."""
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            answer = await self._sender.request(
                "POST",
                f"{self._messages_base}{_node(phone_number_id)}/messages",
                headers=headers,
                json={"messaging_product": "whatsapp", "recipient_type": "individual", **payload},
                timeout=TIMEOUT_SECONDS,
                max_bytes=MAX_JSON_BYTES,
            )
        except OutboundError as exc:
            raise _call_failed(exc) from exc
        try:
            body = json.loads(answer.body)
        except ValueError:
            body = None
        if not 200 <= answer.status < 300:
            raise GraphError.from_response(answer.status, body)
        try:
            return str(body["messages"][0]["id"])
        except (KeyError, IndexError, TypeError) as exc:
            raise GraphError("Graph API answered without a message id", retryable=False) from exc

    # --- analytics ---------------------------------------------------------------------------------

    async def pricing_analytics(
        self, waba_id: str, start: int, end: int, dimensions: tuple[str, ...]
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """What Meta charged the business account between ``start`` and ``end`` (Unix seconds,
        daily): its currency and the data points (``volume``, ``cost`` and the ``dimensions`` asked,
        such as ``PRICING_CATEGORY``, ``COUNTRY``), from the ``pricing_analytics`` field."""
        wanted = ",".join(f'"{d}"' for d in dimensions)
        field = f"pricing_analytics.start({start}).end({end}).granularity(DAILY).dimensions([{wanted}])"
        body = await self._json("GET", _node(waba_id), params={"fields": f"currency,{field}"})
        blocks = _object(body, "pricing_analytics").get("data")
        points = [
            point
            for block in (blocks if isinstance(blocks, list) else [])
            if isinstance(block, dict) and isinstance(block.get("data_points"), list)
            for point in block["data_points"]
            if isinstance(point, dict)
        ]
        currency = body.get("currency")
        return (currency if isinstance(currency, str) else None), points

    # --- templates ---------------------------------------------------------------------------------

    async def list_templates(self, waba_id: str) -> list[dict[str, Any]]:
        """Every template of a business account (``GET /{waba_id}/message_templates``, every page,
        with the fields a sync needs)."""
        params = {"fields": TEMPLATE_FIELDS, "limit": str(TEMPLATES_PAGE_SIZE)}
        path = f"{_node(waba_id)}/message_templates"
        return await self._every_page(path, params, MAX_TEMPLATE_PAGES, "templates", complete=True)

    async def create_template(self, waba_id: str, template: dict[str, Any]) -> dict[str, Any]:
        """``POST /{waba_id}/message_templates``: answers ``{id, status, category}``."""
        body = await self._json("POST", f"{_node(waba_id)}/message_templates", json=template)
        if not body.get("id"):
            raise GraphError("Graph API answered without a template id", retryable=False)
        return body

    async def edit_template(self, template_id: str, changes: dict[str, Any]) -> None:
        """``POST /{template_id}`` with the new components (and category)."""
        await self._json("POST", _node(template_id), json=changes)

    async def delete_template(self, waba_id: str, name: str, template_id: str) -> None:
        """``DELETE /{waba_id}/message_templates?name=…&hsm_id=…``: this language only (by name alone
        Meta deletes every language of the name)."""
        await self._json(
            "DELETE",
            f"{_node(waba_id)}/message_templates",
            params={"name": name, "hsm_id": template_id},
        )

    async def resumable_upload(self, app_id: str, data: bytes, file_name: str, mime_type: str) -> str:
        """Meta's Resumable Upload API, in one piece: ``POST /{app_id}/uploads`` opens a session,
        ``POST /upload:<session>`` (``Authorization: OAuth``, ``file_offset: 0``) sends the bytes;
        answers the file handle (``h``), which template creation and edits take. (The session id
        is joined as ``./upload:…``: bare, its ``upload:`` would read as a URL scheme.)"""
        opened = await self._json(
            "POST",
            f"{_node(app_id)}/uploads",
            params={"file_name": file_name, "file_length": str(len(data)), "file_type": mime_type},
        )
        session = opened.get("id")
        if not isinstance(session, str) or not _UPLOAD_SESSION.fullmatch(session):
            raise GraphError("Graph API answered without a valid upload session", retryable=False)
        body = await self._json(
            "POST", f"./{session}", content=data, headers={"file_offset": "0"}, auth_scheme="OAuth"
        )
        handle = body.get("h")
        if not isinstance(handle, str) or not handle:
            raise GraphError("Graph API answered without a file handle", retryable=False)
        return handle

    # --- numbers and onboarding --------------------------------------------------------------------

    async def phone_number(self, phone_number_id: str) -> PhoneNumberInfo:
        body = await self._json("GET", phone_number_id, params={"fields": PHONE_NUMBER_FIELDS})
        return _phone_number_info(body, phone_number_id)

    async def business_account_numbers(self, waba_id: str) -> list[PhoneNumberInfo]:
        """The phone numbers of a WhatsApp Business Account that the token can read
        (``GET /{waba_id}/phone_numbers``, every page, at most ``MAX_NUMBER_PAGES``)."""
        params = {"fields": PHONE_NUMBER_FIELDS, "limit": str(NUMBERS_PAGE_SIZE)}
        items = await self._every_page(f"{waba_id}/phone_numbers", params, MAX_NUMBER_PAGES, "phone numbers")
        return [_phone_number_info(item, "") for item in items]

    async def exchange_code(self, code: str) -> str:
        """Embedded Signup: trade the one-time code for a business token."""
        if not self._meta.app_id or not self._meta.app_secret:
            raise GraphError("The Meta app is not configured", retryable=False)
        body = await self._json(
            "GET",
            "oauth/access_token",
            params={"client_id": self._meta.app_id, "client_secret": self._meta.app_secret, "code": code},
            authenticated=False,
        )
        return str(body["access_token"])

    async def subscribe_app(self, waba_id: str) -> None:
        await self._json("POST", f"{waba_id}/subscribed_apps")

    async def register_number(self, phone_number_id: str, pin: str) -> None:
        await self._json(
            "POST", f"{phone_number_id}/register", json={"messaging_product": "whatsapp", "pin": pin}
        )

    # --- plumbing ----------------------------------------------------------------------------------

    async def _every_page(
        self, path: str, params: dict[str, str], max_pages: int, what: str, *, complete: bool = False
    ) -> list[dict[str, Any]]:
        """The items of a paged list: ``paging.cursors.after`` while ``paging.next`` says there is
        more, at most ``max_pages`` pages (then, when ``complete`` is asked, an error rather than a
        part of the list)."""
        found: list[dict[str, Any]] = []
        for _ in range(max_pages):
            body = await self._json("GET", path, params=params)
            data = body.get("data")
            if not isinstance(data, list):
                raise GraphError(f"Graph API answered without a list of {what}", retryable=False)
            found += [item for item in data if isinstance(item, dict)]
            paging = _object(body, "paging")
            after = _object(paging, "cursors").get("after")
            if not paging.get("next") or not isinstance(after, str) or not after:
                return found
            params = {**params, "after": after}
        if complete:
            raise GraphError(f"Graph API has more {what} than are read", retryable=False)
        return found

    async def _json(
        self, method: str, path: str, *, authenticated: bool = True, **kwargs: Any
    ) -> dict[str, Any]:
        response = await self._send(method, path, authenticated=authenticated, **kwargs)
        try:
            body = response.json()
        except ValueError as exc:
            raise GraphError(
                "Graph API answered with a body that is not JSON", status=response.status_code
            ) from exc
        if not isinstance(body, dict):
            raise GraphError("Graph API answered with an unexpected body", status=response.status_code)
        return body

    async def _send(
        self,
        method: str,
        url: str,
        *,
        authenticated: bool = True,
        max_bytes: int = MAX_JSON_BYTES,
        auth_scheme: str = "Bearer",
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """``url`` is relative to the Graph base, or absolute (a media URL from Meta's answer)."""
        headers = dict(headers or {})
        if authenticated and self._token:
            headers["Authorization"] = f"{auth_scheme} {self._token}"
        try:
            response = await self._http.request(
                method,
                self._base.join(url),
                headers=headers,
                trusted=self._is_meta,
                max_bytes=max_bytes,
                **kwargs,
            )
        except OutboundError as exc:
            raise _call_failed(exc) from exc
        if response.is_success:
            return response
        try:
            body = response.json()
        except ValueError:
            body = None
        raise GraphError.from_response(response.status_code, body)

    def _is_meta(self, url: httpx.URL) -> bool:
        """The Graph base's own origin, or one of Meta's media domains over https."""
        if (url.scheme, url.host, url.port) == (self._base.scheme, self._base.host, self._base.port):
            return True
        host = url.host.lower()
        return url.scheme == "https" and any(
            host == domain or host.endswith(f".{domain}") for domain in META_MEDIA_DOMAINS
        )


def _call_failed(exc: OutboundError) -> GraphError:
    """A call that got no answer: retryable or not as the guard says, and ``unanswered`` when the
    request may have reached Meta."""
    unanswered = isinstance(exc, OutboundUnavailable) and exc.may_have_arrived
    return GraphError(f"Graph API call failed: {exc}", retryable=exc.retryable, unanswered=unanswered)


def _phone_number_info(body: dict[str, Any], phone_number_id: str) -> PhoneNumberInfo:
    throughput = body.get("throughput")
    return PhoneNumberInfo(
        id=str(body.get("id") or phone_number_id),
        display_phone_number=body.get("display_phone_number"),
        verified_name=body.get("verified_name"),
        quality_rating=body.get("quality_rating"),
        messaging_limit_tier=body.get("messaging_limit_tier"),
        throughput=throughput.get("level") if isinstance(throughput, dict) else None,
        name_status=body.get("name_status"),
        raw=body,
    )


def _node(node_id: str) -> str:
    """A Graph node id (digits, or an app id) as one path segment: it cannot leave its place."""
    if not node_id or not node_id.replace("-", "").replace("_", "").isalnum():
        raise GraphError("Invalid Graph node id", retryable=False)
    return node_id


def _object(body: dict[str, Any], key: str) -> dict[str, Any]:
    found = body.get(key)
    return found if isinstance(found, dict) else {}
