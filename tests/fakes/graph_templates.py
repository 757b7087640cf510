"""The fake Graph API's message templates and Resumable Upload, in Meta's formats.

- ``POST /{waba_id}/message_templates`` answers ``{id, status, category}``; a name and language
  that exist answer code 100, subcode 2388024 ("Content in this language already exists", with
  ``error_user_title``/``error_user_msg`` as Meta gives them); a body whose variables lack samples
  answers code 100 with a template subcode (representative: Meta's exact subcodes for content errors
  vary).
- ``GET /{waba_id}/message_templates`` pages by ``limit`` and ``after`` (``paging.cursors.after``,
  ``paging.next`` while there is more).
- ``POST /{template_id}`` edits: APPROVED, REJECTED or PAUSED only; an APPROVED template once per
  24 hours (Meta's edit limit); the template goes back to PENDING.
- ``DELETE /{waba_id}/message_templates?name=…[&hsm_id=…]``: by name alone every language goes.
- ``POST /{app_id}/uploads`` opens an upload session, ``POST /upload:<id>`` (``Authorization:
  OAuth <token>``, ``file_offset: 0``) takes the bytes and answers the handle ``h``.

A business account belongs to the first token that uses it (or the one a test names): any other
token is told it does not exist, as Meta does.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

_VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")
UPLOAD_TYPES = frozenset({"image/jpeg", "image/png", "video/mp4", "application/pdf"})


def meta_template_error(
    status: int, code: int, message: str, subcode: int | None, title: str, user_msg: str
) -> JSONResponse:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "is_transient": False,
        "error_user_title": title,
        "error_user_msg": user_msg,
        "fbtrace_id": uuid.uuid4().hex[:22],
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return JSONResponse({"error": error}, status_code=status)


@dataclass
class Template:
    id: str
    name: str
    language: str
    category: str
    components: list[dict[str, Any]]
    status: str = "PENDING"
    quality: str = "UNKNOWN"
    rejected_reason: str = "NONE"
    edited_at: list[float] = field(default_factory=list)

    def as_meta(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "components": self.components,
            "quality_score": {"score": self.quality, "date": int(time.time())},
            "rejected_reason": self.rejected_reason,
        }


@dataclass
class UploadSession:
    token: str
    length: int
    file_type: str


@dataclass
class TemplateState:
    #: business account -> the token that manages it
    owners: dict[str, str] = field(default_factory=dict)
    templates: dict[str, list[Template]] = field(default_factory=dict)
    #: the status a created template gets (Meta answers PENDING, sometimes APPROVED at once)
    created_status: str = "PENDING"
    #: the most templates Meta answers in one page
    page_size: int = 25
    uploads: dict[str, UploadSession] = field(default_factory=dict)
    #: handle -> the bytes uploaded under it
    handles: dict[str, bytes] = field(default_factory=dict)
    #: every request to the template endpoints: (method, path, query, body)
    calls: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)


class FakeTemplates:
    """The handlers, given the fake's token check (``authorized(request) -> token | None``)."""

    def __init__(
        self, authorized: Any, missing: Any, invalid_token: Any, read_error: Any, app_id: str
    ) -> None:
        self.state = TemplateState()
        self._lock = threading.Lock()
        self._authorized = authorized
        self._missing = missing
        self._invalid_token = invalid_token
        self._read_error = read_error
        self.app_id = app_id

    # --- what tests set up ---------------------------------------------------------------------

    def add_template(
        self, waba_id: str, token: str, name: str, language: str = "en_US", **fields: Any
    ) -> Template:
        template = Template(
            id=str(fields.pop("id", 1_600_000_000_000_000 + uuid.uuid4().int % 10**12)),
            name=name,
            language=language,
            category=fields.pop("category", "UTILITY"),
            components=fields.pop("components", [{"type": "BODY", "text": "Hello"}]),
            **fields,
        )
        with self._lock:
            self.state.owners.setdefault(waba_id, token)
            self.state.templates.setdefault(waba_id, []).append(template)
        return template

    def find(self, template_id: str) -> Template | None:
        return next((t for ts in self.state.templates.values() for t in ts if t.id == template_id), None)

    def named(self, waba_id: str, name: str) -> list[Template]:
        return [t for t in self.state.templates.get(waba_id, []) if t.name == name]

    def calls_to(self, method: str) -> list[tuple[str, str, dict[str, str], Any]]:
        return [c for c in self.state.calls if c[0] == method]

    # --- handlers ------------------------------------------------------------------------------

    def _owned(self, request: Request, waba_id: str) -> tuple[str | None, Response | None]:
        token = self._authorized(request)
        if token is None:
            return None, self._invalid_token()
        with self._lock:
            owner = self.state.owners.setdefault(waba_id, token)
        if owner != token:
            return None, self._missing(waba_id)
        return token, None

    async def _record(self, request: Request) -> Any:
        body: Any = None
        if request.method == "POST" and request.headers.get("content-type", "").startswith(
            "application/json"
        ):
            body = await request.json()
        with self._lock:
            self.state.calls.append((request.method, request.url.path, dict(request.query_params), body))
        return body

    async def templates(self, request: Request) -> Response:
        waba_id = request.path_params["node"]
        body = await self._record(request)
        _, refusal = self._owned(request, waba_id)
        if refusal is not None:
            return refusal
        if request.method == "GET":
            return self._read_error(waba_id) or self._list(request, waba_id)
        if request.method == "DELETE":
            return self._delete(request, waba_id)
        return self._create(waba_id, body if isinstance(body, dict) else {})

    def _list(self, request: Request, waba_id: str) -> Response:
        items = self.state.templates.get(waba_id, [])
        # Meta pages at most its own cap, whatever ``limit`` asks
        size = min(int(request.query_params.get("limit") or self.state.page_size), self.state.page_size)
        start = int(request.query_params.get("after") or 0)
        page = items[start : start + size]
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
        if start + size < len(items):
            paging["next"] = (
                f"{request.base_url}{request.url.path.lstrip('/')}?limit={size}&after={start + size}"
            )
        return JSONResponse({"data": [t.as_meta() for t in page], "paging": paging})

    def _create(self, waba_id: str, body: dict[str, Any]) -> Response:
        name, language = str(body.get("name") or ""), str(body.get("language") or "")
        if not re.fullmatch(r"[a-z0-9_]{1,512}", name) or not language or not body.get("components"):
            return meta_template_error(
                400,
                100,
                "Invalid parameter",
                None,
                "Invalid parameter",
                "name, language and components are required",
            )
        if any(t.language == language for t in self.named(waba_id, name)):
            return meta_template_error(
                400,
                100,
                "Invalid parameter",
                2388024,
                "Content in This Language Already Exists",
                f"There is already {language} content for this template. "
                "Create a new template and try again.",
            )
        for component in body["components"]:
            text = str(component.get("text") or "")
            count = len(set(_VARIABLE.findall(text)))
            example = component.get("example") or {}
            samples = (example.get("body_text") or [[]])[0] if component.get("type") == "BODY" else None
            if component.get("type") == "BODY" and count and len(samples or []) != count:
                return meta_template_error(
                    400,
                    100,
                    "Invalid parameter",
                    2388043,
                    "Message template variables missing sample values",
                    "Add a sample for each variable in the body.",
                )
        template = self.add_template(
            waba_id,
            self.state.owners[waba_id],
            name,
            language,
            category=str(body.get("category") or "UTILITY"),
            components=body["components"],
            status=self.state.created_status,
        )
        return JSONResponse({"id": template.id, "status": template.status, "category": template.category})

    def _delete(self, request: Request, waba_id: str) -> Response:
        name = request.query_params.get("name", "")
        hsm_id = request.query_params.get("hsm_id")
        matching = [t for t in self.named(waba_id, name) if hsm_id is None or t.id == hsm_id]
        if not name or not matching:
            return meta_template_error(
                400,
                100,
                "Invalid parameter",
                2593002,
                "Message template not found",
                f"No template called {name}",
            )
        with self._lock:
            self.state.templates[waba_id] = [t for t in self.state.templates[waba_id] if t not in matching]
        return JSONResponse({"success": True})

    async def edit(self, request: Request) -> Response:
        """``POST /{template_id}`` (and ``POST /upload:<session>``, which shares the path shape)."""
        node = request.path_params["node"]
        if node.startswith("upload:"):
            return await self.upload_bytes(request, node)
        body = await self._record(request)
        template = self.find(node)
        if template is None:
            return self._missing(node)
        waba_id = next(w for w, ts in self.state.templates.items() if template in ts)
        _, refusal = self._owned(request, waba_id)
        if refusal is not None:
            return refusal
        if template.status not in {"APPROVED", "REJECTED", "PAUSED"}:
            return meta_template_error(
                400,
                100,
                "Invalid parameter",
                2388068,
                "Template can't be edited",
                f"A {template.status} template can't be edited.",
            )
        now = time.time()
        if template.status == "APPROVED" and any(now - t < 24 * 3600 for t in template.edited_at):
            return meta_template_error(
                400,
                100,
                "Invalid parameter",
                None,
                "Edit limit reached",
                "An approved template can be edited once in 24 hours and 10 times in 30 days.",
            )
        with self._lock:
            template.components = (body or {}).get("components", template.components)
            template.category = (body or {}).get("category", template.category)
            template.edited_at.append(now)
            template.status = "PENDING"
        return JSONResponse({"success": True})

    async def open_upload(self, request: Request) -> Response:
        await self._record(request)
        token = self._authorized(request)
        if token is None:
            return self._invalid_token()
        if request.path_params["node"] != self.app_id:
            return self._missing(request.path_params["node"])
        query = request.query_params
        if query.get("file_type") not in UPLOAD_TYPES or not (query.get("file_length") or "").isdigit():
            return meta_template_error(
                400, 100, "Invalid parameter", None, "Invalid file", "file_type and file_length"
            )
        session = f"upload:{uuid.uuid4().hex}"
        with self._lock:
            self.state.uploads[session] = UploadSession(token, int(query["file_length"]), query["file_type"])
        return JSONResponse({"id": f"{session}?sig=ARZ{uuid.uuid4().hex[:12]}"})

    async def upload_bytes(self, request: Request, session_id: str) -> Response:
        header = request.headers.get("authorization", "")
        upload = self.state.uploads.get(session_id)
        if not header.startswith("OAuth ") or upload is None or header.removeprefix("OAuth ") != upload.token:
            return self._invalid_token()
        if request.headers.get("file_offset") != "0" or not request.query_params.get("sig"):
            return meta_template_error(
                400, 100, "Invalid parameter", None, "Invalid upload", "file_offset and sig"
            )
        data = await request.body()
        if len(data) != upload.length:
            return meta_template_error(
                400, 100, "Invalid parameter", None, "Invalid upload", "file_length mismatch"
            )
        handle = f"4::{uuid.uuid4().hex}:ARb{uuid.uuid4().hex[:16]}"
        with self._lock:
            self.state.handles[handle] = data
        return JSONResponse({"h": handle})

    def check_send(self, body: dict[str, Any]) -> Response | None:
        """A template send of a template the fake knows: Meta's 132001 / 132000 when the name,
        language or the number of body values is wrong."""
        sent = body.get("template") or {}
        known = [t for ts in self.state.templates.values() for t in ts if t.name == sent.get("name")]
        if not known:
            return None
        language = (sent.get("language") or {}).get("code")
        match = next((t for t in known if t.language == language), None)
        if match is None:
            return meta_template_error(
                404, 132001, "Template name does not exist in the translation", None, "", ""
            )
        body_text = next((c.get("text", "") for c in match.components if c.get("type") == "BODY"), "")
        given: dict[str, Any] = next(
            (c for c in sent.get("components") or [] if c.get("type") == "body"), {"parameters": []}
        )
        if len(set(_VARIABLE.findall(body_text))) != len(given.get("parameters") or []):
            return meta_template_error(
                400, 132000, "Number of parameters does not match the expected number of params", None, "", ""
            )
        return None
